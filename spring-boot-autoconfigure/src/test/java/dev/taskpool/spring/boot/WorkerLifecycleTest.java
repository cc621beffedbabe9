package dev.taskpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.java.TaskContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The worker inside whole Spring Boot applications on the tests' real Redis: an annotated bean
 * processes tasks, the worker runs before the runners and the web server and stops after them, and
 * stopping an application while tasks run loses none.
 */
class WorkerLifecycleTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String GREET = "spring.life.greet";
    private static final String SLOW = "spring.life.slow";
    /** How long one slow task takes: long enough to still run when the application stops. */
    private static final Duration SLOW_RUN = Duration.ofSeconds(3);

    /** What the slow processors of every application in a test saw: started and finished task ids. */
    static final Set<Long> started = ConcurrentHashMap.newKeySet();
    static final Set<Long> finished = ConcurrentHashMap.newKeySet();

    private static TaskpoolClient client;

    record Order(String customer, int items) {
    }

    record Receipt(String customer, int items, long taskId, int attempt) {
    }

    static class Shop {
        @TaskProcessor(value = GREET, timeoutSeconds = 30)
        public Receipt receipt(Order order, TaskContext context) {
            context.progress(1, 1, "counted");
            return new Receipt(order.customer(), order.items(), context.id(), context.attempt());
        }
    }

    static class Slow {
        @TaskProcessor(value = SLOW, workerNums = 2, attempts = 5, timeoutSeconds = 60)
        public String work(int n, TaskContext context) throws InterruptedException {
            started.add(context.id());
            Thread.sleep(SLOW_RUN.toMillis());   // (a stopping worker interrupts it when its grace is over)
            finished.add(context.id());
            return "done " + n;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ShopApp {
        static final List<Long> addedByTheRunner = new CopyOnWriteArrayList<>();

        @Bean
        Shop shop() {
            return new Shop();
        }

        /** Adds at start: the worker must have published the annotated kind before the runners run. */
        @Bean
        ApplicationRunner addAtStart(TaskpoolClient taskpool) {
            return arguments -> addedByTheRunner.add(taskpool.add(GREET, new Order("runner", 1)).id());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class SlowApp {
        @Bean
        Slow slow() {
            return new Slow();
        }
    }

    /** Stands where the web server's lifecycle stands, and notes whether the worker runs around it. */
    static class WebServerLike implements SmartLifecycle {
        final TaskpoolWorkerLifecycle worker;
        final List<String> seen = new CopyOnWriteArrayList<>();
        private volatile boolean running;

        WebServerLike(TaskpoolWorkerLifecycle worker) {
            this.worker = worker;
        }

        @Override
        public void start() {
            seen.add("start: worker running " + worker.isRunning());
            running = true;
        }

        @Override
        public void stop() {
            seen.add("stop: worker running " + worker.isRunning());
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE;   // (the web server's own is lower still)
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class WebServerLikeApp {
        @Bean
        WebServerLike webServerLike(TaskpoolWorkerLifecycle worker) {
            return new WebServerLike(worker);
        }
    }

    @BeforeAll
    static void connect() {
        client = TaskpoolClient.connect(TestRedis.uri());
    }

    @AfterAll
    static void disconnect() {
        client.close();
    }

    @BeforeEach
    void eraseKinds() {
        client.operations().erase(GREET);
        client.operations().erase(SLOW);
        started.clear();
        finished.clear();
        ShopApp.addedByTheRunner.clear();
    }

    @Test
    void anAnnotatedBeanProcessesTasksAddedByTheRunnersAndAfter() {
        try (ConfigurableApplicationContext app = TestApps.start(new Class<?>[] {ShopApp.class}, "taskpool.worker.enabled=true")) {
            assertThat(ShopApp.addedByTheRunner).hasSize(1);
            TaskInfo byRunner = client.await(GREET, ShopApp.addedByTheRunner.getFirst(), WAIT);
            assertThat(byRunner.status()).as(byRunner.toString()).isEqualTo(TaskStatus.SUCCESS);

            long id = app.getBean(TaskpoolClient.class).add(GREET, new Order("ada", 3)).id();
            TaskInfo done = client.await(GREET, id, WAIT);
            assertThat(done.status()).as(done.toString()).isEqualTo(TaskStatus.SUCCESS);
            assertThat(done.response().get("customer").asText()).isEqualTo("ada");
            assertThat(done.response().get("items").asInt()).isEqualTo(3);
            assertThat(done.response().get("taskId").asLong()).isEqualTo(id);
            assertThat(done.current()).isEqualTo(1);
            assertThat(app.getBean(TaskpoolWorkerLifecycle.class).worker().orElseThrow().kinds()).contains(GREET);
        }
    }

    @Test
    void theWorkerStartsBeforeTheWebServerPhaseAndStopsAfterIt() {
        WebServerLike web;
        try (ConfigurableApplicationContext app = TestApps.start(new Class<?>[] {ShopApp.class, WebServerLikeApp.class},
                "taskpool.worker.enabled=true")) {
            web = app.getBean(WebServerLike.class);
        }
        assertThat(web.seen).containsExactly("start: worker running true", "stop: worker running true");
        assertThat(TaskpoolWorkerLifecycle.PHASE).isLessThan(WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 1024);
    }

    @Test
    void runningTasksFinishWithinTheGraceWhenTheApplicationStops() {
        List<Long> ids = new ArrayList<>();
        Set<Long> runningAtStop;
        try (ConfigurableApplicationContext app = TestApps.start(new Class<?>[] {SlowApp.class}, "taskpool.worker.enabled=true",
                "taskpool.worker.shutdown-grace=20s", "spring.lifecycle.timeout-per-shutdown-phase=20s")) {   // (warned, not refused)
            for (int n = 0; n < 4; n++) {
                ids.add(client.add(SLOW, n).id());
            }
            Wait.until("two slow tasks running", WAIT, () -> started.size() == 2);
            runningAtStop = Set.copyOf(started);
        }
        // close() returned: the runs that were going on finished, the others wait for a worker
        for (long id : ids) {
            TaskStatus status = client.get(SLOW, id).orElseThrow().status();
            assertThat(status).as("task " + id + " right after the stop").isEqualTo(
                    runningAtStop.contains(id) ? TaskStatus.SUCCESS : TaskStatus.WAITING);
        }
        assertThat(finished).containsAll(runningAtStop);
        allSucceedOnASecondWorker(ids);
    }

    @Test
    void tasksStillRunningAfterTheGraceGoBackToTheQueueAndASecondWorkerRunsThem() {
        List<Long> ids = new ArrayList<>();
        Set<Long> runningAtStop;
        try (ConfigurableApplicationContext app = TestApps.start(new Class<?>[] {SlowApp.class}, "taskpool.worker.enabled=true",
                "taskpool.worker.shutdown-grace=200ms")) {
            for (int n = 0; n < 4; n++) {
                ids.add(client.add(SLOW, n).id());
            }
            Wait.until("two slow tasks running", WAIT, () -> started.size() == 2);
            runningAtStop = Set.copyOf(started);
        }
        for (long id : ids) {
            TaskInfo task = client.get(SLOW, id).orElseThrow();
            assertThat(task.status()).as("task %d right after the stop (running then: %s): %s", id, runningAtStop, task)
                    .isEqualTo(TaskStatus.WAITING);
        }
        allSucceedOnASecondWorker(ids);
    }

    private static void allSucceedOnASecondWorker(List<Long> ids) {
        try (ConfigurableApplicationContext second = TestApps.start(new Class<?>[] {SlowApp.class}, "taskpool.worker.enabled=true")) {
            Map<Long, TaskStatus> statuses = new ConcurrentHashMap<>();
            Wait.until("every slow task SUCCESS on the second worker: " + statuses, WAIT, () -> {
                for (long id : ids) {
                    statuses.put(id, client.get(SLOW, id).orElseThrow().status());
                }
                return statuses.values().stream().allMatch(TaskStatus.SUCCESS::equals);
            });
        }
        assertThat(finished).containsAll(ids);
    }
}
