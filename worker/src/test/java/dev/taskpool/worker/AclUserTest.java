package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.Schedules;
import dev.taskpool.client.Subscription;
import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.schedule.ScheduleInfo;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.metrics.KindGauges;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker, a client and an operator each run as a Redis ACL user created from the rules docs/acl.md
 * gives ({@link DocumentedAclRules}), end to end through the Java API: adds (one, a batch, many at once),
 * retry after a failure, progress, events, await, get, the worker's kind gauges, and every operator
 * action. Any command those rules deny fails the test through Redis' own ACL LOG, even one the worker
 * would only log and retry, or one a script runs through pcall. (The command line and the dashboard
 * as these users: AclUserCommandsTest in the cli module.)
 */
public class AclUserTest {
    /** The rules of docs/acl.md, read from it: the users a reader copies are the ones tested. */
    static final DocumentedAclRules DOCUMENTED = DocumentedAclRules.read();

    private static final String TASK = "acl";
    @TempDir
    Path dir;
    private LocalRedis redis;
    private RedisConnector admin;

    @BeforeEach
    void startRedisWithUsers() {
        redis = LocalRedis.start();
        admin = RedisConnector.connect(redis.uri());
        setUser("taskpool-worker", "worker-secret", DOCUMENTED.of("taskpool-worker"));
        setUser("taskpool-client", "client-secret", DOCUMENTED.of("taskpool-client", TASK));
        setUser("taskpool-operator", "operator-secret", DOCUMENTED.of("taskpool-operator"));
        admin.sync().aclLogReset();
    }

    @AfterEach
    void stopRedis() {
        if (admin != null) {
            admin.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private void setUser(String name, String password, String rules) {
        CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add(name).add("on")
                .add(">" + password);
        for (String rule : rules.split(" +")) {
            args.add(rule);
        }
        String reply = admin.sync().dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), args);
        assertEquals("OK", reply, "ACL SETUSER " + name);
    }

    @Test
    void schedulesFireAndAreManagedAsRestrictedAclUsers() {
        TestApp app = TestApp.in(dir).task(TASK, 2, 0, 0, 5, 100, "models.acl.tick", "")
                .write("schedules/acl-app.sch.yao", """
                        {"name": "app", "schedule": "*/1 * * * * *", "task": "%s", "args": ["app"]}""".formatted(TASK))
                .write("schedules/acl-beat.sch.yao", """
                        {"name": "beat", "schedule": "*/1 * * * * *", "process": "models.acl.beat"}""");
        AtomicInteger beats = new AtomicInteger();
        EmbeddedWorker worker = EmbeddedWorker.builder(urlFor("taskpool-worker", "worker-secret"), app.dir())
                .process("models.acl.tick", args -> args.get(1))
                .process("models.acl.beat", args -> beats.incrementAndGet())
                .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                .start();
        try (TaskpoolClient client = TaskpoolClient.connect(urlFor("taskpool-client", "client-secret"));
             TaskpoolClient operator = TaskpoolClient.connect(urlFor("taskpool-operator", "operator-secret"))) {
            client.schedules().put(ScheduleSpec.builder("acl-client").cron("*/1 * * * * *").task(TASK).args("client").build());
            Wait.until("the client's schedule, the app's and the process schedule fire", Duration.ofSeconds(60),
                    () -> beats.get() >= 2 && operator.schedules().list().stream().allMatch(s -> s.lastFireAt() > 0));
            Schedules operations = operator.schedules();
            assertEquals(List.of("acl-app", "acl-beat", "acl-client"), operations.list().stream().map(ScheduleInfo::id).toList());
            operations.stop("acl-app");
            operations.trigger("acl-app");
            operations.start("acl-app");
            assertTrue(client.schedules().get("acl-client").isPresent());
            assertTrue(client.schedules().remove("acl-client"));
        } finally {
            worker.close();
        }
        List<Map<String, Object>> denied = admin.sync().aclLog();
        assertEquals(List.of(), denied, "commands the ACL rules of docs/acl.md denied (ACL LOG)");
    }

    private String urlFor(String user, String password) {
        return redis.uri().replace("redis://", "redis://" + user + ":" + password + "@");
    }

    @Test
    void aWorkerAndAClientRunEndToEndAsRestrictedAclUsers() {
        String task = TASK;
        TestApp app = TestApp.in(dir).task(task, 2, 2, 0, 5, 100, "models.acl.flaky", "");
        AtomicInteger calls = new AtomicInteger();
        MeterRegistry meters = new SimpleMeterRegistry();
        EmbeddedWorker worker = EmbeddedWorker.builder(urlFor("taskpool-worker", "worker-secret"), app.dir())
                .process("models.acl.flaky", args -> {
                    if (calls.incrementAndGet() == 1) {
                        throw new IllegalStateException("the first run fails, so the retry path runs too");
                    }
                    return Map.of("echo", args.get(1));
                })
                .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                .meterRegistry(meters)
                .start();
        Map<String, Integer> events = new ConcurrentHashMap<>();
        Map<String, Integer> eventsOfLater = new ConcurrentHashMap<>();
        try (TaskpoolClient client = TaskpoolClient.connect(urlFor("taskpool-client", "client-secret"));
             Subscription ignored = client.subscribeAll(task, event -> events.merge(event.event(), 1, Integer::sum))) {
            long first = client.add(task, "one").id();
            // a delayed add: the delayed set, the worker's promotion, its due-time watch and Redis' clock (TIME);
            // its one-task subscription is made before it can start (the first task may be done before a
            // subscription made after its add is confirmed)
            long later = client.addWith(task, AddOptions.delay(Duration.ofSeconds(3)), "later").id();
            Subscription ofLater = client.subscribe(task, later, event -> eventsOfLater.merge(event.event(), 1, Integer::sum));
            List<Long> ids = new ArrayList<>(List.of(first, later));
            ids.addAll(client.addAll(task, List.of(List.of("two"), List.of("three"))));
            // many adds at once share a script call (the group commit), which reads their request records with MGET
            List<CompletableFuture<AddResult>> together = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                together.add(client.addAsync(task, "together " + i));
            }
            together.forEach(add -> ids.add(add.join().id()));
            for (long id : ids) {
                TaskInfo done = client.await(task, id, Duration.ofSeconds(30));
                assertEquals(TaskStatus.SUCCESS, done.status(), "task #" + id + " as the ACL users: " + done);
            }
            assertTrue(client.get(task, first).orElseThrow().attempt() >= 1, "get works as the client user");
            Wait.until("events reach the client user's pattern subscription", Duration.ofSeconds(60),
                    () -> !events.isEmpty());
            Wait.until("the one-task subscription gets its task's success", Duration.ofSeconds(30),
                    () -> eventsOfLater.containsKey("success"));
            ofLater.close();
            // the worker's gauges read the kind's counts from Redis as the worker user (the /metrics of --metrics-port)
            Gauge waiting = meters.get("taskpool.queue.waiting").tag("task", task).gauge();
            Wait.until("the worker user reads the kind's counts for its gauges", Duration.ofSeconds(30),
                    () -> waiting.value() == 0);
            assertEquals(ids.size(), meters.get("taskpool.kind.totals").tags("task", task, "counter", "succeeded")
                    .gauge().value(), "the stats hash, read as the worker user");
        } finally {
            worker.close();
        }
        assertTrue(calls.get() >= 25, "one failed run and 24 successful ones, got " + calls.get());
        assertTrue(eventsOfLater.containsKey("success"), "the one-task subscription got its events: " + eventsOfLater);
        List<Map<String, Object>> denied = admin.sync().aclLog();
        assertEquals(List.of(), denied, "commands the ACL rules of docs/acl.md denied (ACL LOG)");
    }

    @Test
    void anOperatorDoesEveryActionAsARestrictedAclUserWhileAWorkerRunsAsItsOwn() {
        String task = TASK;
        TestApp app = TestApp.in(dir).task(task, 2, 0, 0, 30, 100, "models.acl.controlled", "");
        AtomicBoolean healthy = new AtomicBoolean();
        CountDownLatch release = new CountDownLatch(1);
        Set<Object> blocking = ConcurrentHashMap.newKeySet();
        EmbeddedWorker worker = EmbeddedWorker.builder(urlFor("taskpool-worker", "worker-secret"), app.dir())
                .process("models.acl.controlled", args -> {
                    if ("block".equals(args.get(1))) {
                        blocking.add(args.get(0));
                        try {
                            release.await(20, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException("interrupted", e);   // (a cancel stops it so)
                        }
                    }
                    if (!healthy.get()) {
                        throw new IllegalStateException("not yet");
                    }
                    return "ok";
                })
                .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                .start();
        try (TaskpoolClient client = TaskpoolClient.connect(urlFor("taskpool-client", "client-secret"));
             TaskpoolClient operator = TaskpoolClient.connect(urlFor("taskpool-operator", "operator-secret"))) {
            var operations = operator.operations();
            long failing = client.add(task, "a").id();
            assertEquals(TaskStatus.FAILURE, client.await(task, failing, Duration.ofSeconds(30)).status());
            healthy.set(true);
            operations.retry(task, failing, "ops");
            assertEquals(TaskStatus.SUCCESS, client.await(task, failing, Duration.ofSeconds(30)).status());
            healthy.set(false);
            long again = client.add(task, "b").id();
            assertEquals(TaskStatus.FAILURE, client.await(task, again, Duration.ofSeconds(30)).status());
            healthy.set(true);
            assertEquals(1, operations.retryFailed(task, "ops"));
            assertEquals(TaskStatus.SUCCESS, client.await(task, again, Duration.ofSeconds(30)).status());

            long running = client.add(task, "block").id();
            Wait.until("the blocking task runs", Duration.ofSeconds(60), () -> !blocking.isEmpty());
            operations.cancel(task, running, "ops");
            operations.pause(task, "ops");
            long waiting = client.add(task, "c").id();
            assertEquals(1, operations.list(task, TaskStatus.WAITING, 10, null).tasks().size());
            operations.cancel(task, waiting, "ops");
            long delayed = client.addWith(task, AddOptions.delay(Duration.ofDays(1)), "d").id();
            assertEquals(1, operations.stats(task).delayed());
            assertEquals(1, operations.list(task, TaskStatus.WAITING, 10, null).tasks().size(), "the delayed one");
            operations.runNow(task, delayed, "ops");
            operations.resume(task, "ops");
            assertEquals(TaskStatus.SUCCESS, client.await(task, delayed, Duration.ofSeconds(30)).status(), "run now");
            release.countDown();
            assertEquals(2, operations.list(task, TaskStatus.FAILURE, 10, null).tasks().size(), "the two canceled");
            assertEquals(3, operations.list(task, TaskStatus.SUCCESS, 10, null).tasks().size());
            assertTrue(operations.list(task, TaskStatus.RUNNING, 10, null).tasks().size() <= 1);
            operations.delete(task, failing);
            assertEquals(List.of(task), operations.kinds());
            assertEquals(2, operations.stats().getFirst().canceled());
            assertEquals(1, operations.workers().size(), "the worker's presence, read as the operator");
        } finally {
            worker.close();
        }
        List<Map<String, Object>> denied = admin.sync().aclLog();
        assertEquals(List.of(), denied, "commands the ACL rules of docs/acl.md denied (ACL LOG)");
    }

    @Test
    void aCommandTheAclRefusesInsideAScriptIsReportedAsSuchNotAsAWrongType() {
        // A user that may run the scripts but not HGET/HMGET, which the add and progress scripts read with.
        setUser("taskpool-partial", "partial-secret", DocumentedAclRules.without(DOCUMENTED.of("taskpool-client", TASK), "+hget", "+hmget"));
        TestApp app = TestApp.in(dir).task(TASK, 1, 0, 0, 5, 100, "models.acl.noop", "");
        try (EmbeddedWorker worker = EmbeddedWorker.builder(urlFor("taskpool-worker", "worker-secret"), app.dir())
                .process("models.acl.noop", args -> null).start();
             TaskpoolClient partial = TaskpoolClient.connect(urlFor("taskpool-partial", "partial-secret"))) {
            long id = ((Number) worker.call("tasks." + TASK + ".add", "x")).longValue();
            TaskpoolException addError = Assertions.assertThrows(
                    TaskpoolException.class, () -> partial.add(TASK, "y"));
            assertTrue(refusedByAcl(addError.getMessage()),
                    "the add names the ACL refusal: " + addError.getMessage());
            TaskpoolException progressError = Assertions.assertThrows(
                    TaskpoolException.class, () -> partial.progress(TASK, id, 1, 2, "half"));
            assertTrue(refusedByAcl(progressError.getMessage()),
                    "progress names the ACL refusal: " + progressError.getMessage());
        }
    }

    @Test
    void aWorkerRefusedACommandItsGaugesNeedLogsTheRuleToAddOnceNotAtEveryRead() {
        setUser("taskpool-nozcount", "nozcount-secret", DocumentedAclRules.without(DOCUMENTED.of("taskpool-worker"), "+zcount"));
        TestApp app = TestApp.in(dir).task(TASK, 1, 0, 0, 5, 100, "models.acl.noop", "");
        MeterRegistry meters = new SimpleMeterRegistry();
        String line = "Redis user 'taskpool-nozcount' may not run ZCOUNT (needed to read the counts of task " + TASK
                + "): add +zcount (see docs/acl.md)";
        try (LogCapture logs = new LogCapture();
             EmbeddedWorker ignored = EmbeddedWorker.builder(urlFor("taskpool-nozcount", "nozcount-secret"), app.dir())
                     .process("models.acl.noop", args -> null).meterRegistry(meters).start()) {
            Gauge waiting = meters.get("taskpool.queue.waiting").tag("task", TASK).gauge();
            // scrapes over three refresh intervals: each interval reads Redis again and is refused again
            long until = System.nanoTime() + 3 * KindGauges.REFRESH.toNanos();
            int scrapes = 0;
            while (System.nanoTime() < until) {
                assertTrue(Double.isNaN(waiting.value()), "no number while the counts cannot be read");
                scrapes++;
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos());   // a scrape's pace
            }
            assertTrue(scrapes > 3, "scrapes " + scrapes);
            List<String> refusals = logs.lines().stream()
                    .filter(logged -> logged.toUpperCase(Locale.ROOT).contains("ZCOUNT")).toList();
            assertEquals(1, refusals.size(), "the refusal, logged once for all those scrapes: " + refusals);
            assertTrue(refusals.getFirst().contains(": " + line + "; will try again"), refusals.getFirst());
        }
    }

    /**
     * A refusal is one line that names the user and what to add (Redis 7.0 names no command refused
     * inside a script through pcall: the line then says to give the user every rule of its role).
     */
    private static boolean refusedByAcl(String message) {
        return message.startsWith("Redis user 'taskpool-partial' may not run ") && message.endsWith(AclRefusal.SEE)
                && !message.contains("\n") && !message.contains("expected a hash");
    }

    @Test
    void theRulesDoNotReachBeyondTaskpoolKeys() {
        try (RedisConnector asClient = RedisConnector.connect(urlFor("taskpool-client", "client-secret"))) {
            RedisClusterCommands<String, String> commands = asClient.sync();
            RedisCommandExecutionException error = assertThrows(RedisCommandExecutionException.class,
                    () -> commands.get("someone-else:secret"), "a key outside taskpool:*");
            assertTrue(error.getMessage().startsWith("NOPERM"), error.getMessage());
            error = assertThrows(RedisCommandExecutionException.class, () -> commands.flushall(), "FLUSHALL");
            assertTrue(error.getMessage().startsWith("NOPERM"), error.getMessage());
        }
    }
}
