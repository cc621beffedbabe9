package dev.taskpool.worker.exec;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.redis.FetchedTask;
import dev.taskpool.core.redis.Keys;
import dev.taskpool.worker.runtime.AppRuntime;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runs of one task in this worker process: {@code worker_nums} slots, one fetch loop that
 * takes as many waiting tasks as there are free slots in one script call, and blocks on Redis
 * (BLPOP on the task's wake list) when nothing is waiting; it never polls in a loop.
 */
final class TaskConsumer {
    private static final Logger log = LoggerFactory.getLogger(TaskConsumer.class);
    private static final Duration ERROR_BACKOFF = Duration.ofSeconds(1);

    private final TaskDefinition definition;
    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final WorkerContext worker;
    private final Keys keys;
    private final Semaphore slots;
    private final ExecutorService executor;
    private final Map<Long, TaskRun> running = new ConcurrentHashMap<>();
    private volatile boolean fetching;
    private Thread fetcher;
    private StatefulRedisConnection<String, String> blocking;

    TaskConsumer(TaskDefinition definition, AppRuntime runtime, WorkerContext worker) {
        this.definition = definition;
        this.runtime = runtime;
        this.settings = worker.settings();
        this.worker = worker;
        this.keys = Keys.of(definition.id());
        this.slots = new Semaphore(definition.workerNums());
        AtomicInteger number = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(definition.workerNums(),
                runnable -> Thread.ofPlatform().daemon().name("run-" + definition.id() + "-" + number.incrementAndGet())
                        .unstarted(runnable));
    }

    TaskDefinition definition() {
        return definition;
    }

    void start() {
        blocking = runtime.redis().newBlockingConnection();
        fetching = true;
        fetcher = Thread.ofPlatform().daemon().name("fetch-" + definition.id()).start(this::fetchLoop);
    }

    private void fetchLoop() {
        while (fetching) {
            int taken = 0;
            try {
                slots.acquire();
                taken = 1 + slots.drainPermits();
                long now = runtime.clock().millis();
                List<FetchedTask> fetched = runtime.store().await(runtime.store().fetch(definition.id(), taken, now,
                        now + settings.lease().toMillis(), settings.workerId(), definition.keep()), "fetch tasks of " + definition.id());
                slots.release(taken - fetched.size());
                taken = 0;
                for (FetchedTask task : fetched) {
                    start(task);
                }
                if (fetched.isEmpty() && fetching) {
                    blocking.sync().blpop(settings.idleBlock().toMillis() / 1000.0, keys.wake());
                }
            } catch (InterruptedException e) {
                slots.release(taken);
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                slots.release(taken);
                if (!fetching) {
                    return;
                }
                log.warn("task {}: fetching failed ({}); trying again in {}s", definition.id(), e.getMessage(),
                        ERROR_BACKOFF.toSeconds());
                sleepQuietly(ERROR_BACKOFF);
            }
        }
    }

    private void start(FetchedTask task) {
        TaskRun run = new TaskRun(task, definition, runtime, worker, () -> {
            running.remove(task.id());
            slots.release();
        });
        running.put(task.id(), run);
        executor.execute(run);
    }

    /** The leases of the runs in progress, for the heartbeat. */
    List<FetchedTask> leases() {
        return running.values().stream().map(TaskRun::lease).toList();
    }

    void stopRun(long id, TaskRun.StopReason reason) {
        TaskRun run = running.get(id);
        if (run != null) {
            run.stop(reason);
        }
    }

    int runningCount() {
        return running.size();
    }

    /** Step 1 of a graceful stop: take no more tasks. */
    void stopFetching() {
        fetching = false;
        if (fetcher != null) {
            fetcher.interrupt();
            try {
                fetcher.join(settings.idleBlock().plusSeconds(2).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (blocking != null) {
            blocking.close();
        }
    }

    /** Step 2: let running tasks finish until {@code deadlineNanos}; true when all did. */
    boolean awaitRuns(long deadlineNanos) throws InterruptedException {
        executor.shutdown();
        return executor.awaitTermination(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Step 3: stop the runs still going; each hands its task back to the queue. */
    void handBackRunning(Duration wait) throws InterruptedException {
        running.values().forEach(run -> run.stop(TaskRun.StopReason.SHUTDOWN));
        if (!executor.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            // Runs stuck in code that ignores interrupts: release their leases from here; if they
            // ever finish, their lease token no longer matches and their result is discarded.
            for (TaskRun run : running.values()) {
                FetchedTask lease = run.lease();
                log.error("task {} #{}: the run ignored its interrupt; handing it back anyway", lease.task(), lease.id());
                runtime.store().await(runtime.store().release(lease, runtime.clock().millis()), "hand a stuck task back");
            }
            executor.shutdownNow();
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
