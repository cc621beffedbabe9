package dev.taskpool.worker.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.SentinelRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.EmbeddedWorker;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Producers and two workers on {@code redis-sentinel://…#mymaster} while the master is killed with
 * SIGKILL: the Sentinels promote the replica and everyone follows it through Lettuce. Counts what a
 * user would count: tasks added (acknowledged), SUCCESS, lost, stuck, extra runs, time until work
 * resumed; printed for the README, and checked where taskpool promises something.
 */
class SentinelFailoverTest {
    /** Above the idle BLPOP (2 s), so a command timeout never drops a popped element. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);
    private static final String TASK = "sentinel";
    private static final String PROCESS = "models.sentinel.work";
    private static final int PRODUCERS = 2;

    @TempDir
    Path dir;

    private final Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final Map<Long, Long> acknowledged = new ConcurrentHashMap<>();
    private final AtomicInteger idsHandedOutTwice = new AtomicInteger();
    private final AtomicInteger failedAdds = new AtomicInteger();
    private final AtomicBoolean producing = new AtomicBoolean(true);
    private volatile long killedAt;
    private volatile long highestIdBeforeKill = Long.MAX_VALUE;
    private final AtomicLong resumedAt = new AtomicLong();

    @Test
    void workersAndClientsFollowTheSentinelsWhenTheMasterIsKilled() throws InterruptedException {
        TestApp app = TestApp.in(dir).task(TASK, 4, 3, 0, 10, 1_000_000, PROCESS, "");
        List<EmbeddedWorker> workers = new ArrayList<>();
        List<Thread> producers = new ArrayList<>();
        try (SentinelRedis redis = SentinelRedis.start();
             TaskpoolClient reader = TaskpoolClient.connect(redis.uri(), COMMAND_TIMEOUT, Duration.ofSeconds(15))) {
            for (int i = 0; i < 2; i++) {
                workers.add(EmbeddedWorker.builder(redis.uri(), app.dir())
                        .process(PROCESS, this::work)
                        .commandTimeout(COMMAND_TIMEOUT)
                        .settings(s -> s.withLease(Duration.ofSeconds(2), Duration.ofMillis(500))
                                .withRecoverInterval(Duration.ofSeconds(1)).withShutdownGrace(Duration.ofSeconds(2)))
                        .start());
            }
            for (int i = 0; i < PRODUCERS; i++) {
                Thread producer = new Thread(() -> produce(redis.uri()), "producer-" + i);
                producer.start();
                producers.add(producer);
            }
            Wait.until("300 tasks run before the failover", Duration.ofSeconds(60), () -> runs.size() >= 300);

            int oldMaster = redis.currentMasterPort();
            assertEquals(redis.initialMaster().port(), oldMaster, "the setup starts with its first server as master");
            highestIdBeforeKill = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
            killedAt = System.nanoTime();
            redis.initialMaster().kill();
            redis.awaitFailover(oldMaster, Duration.ofSeconds(30));
            long promotedAfter = millisSince(killedAt);
            assertNotEquals(oldMaster, redis.currentMasterPort(), "the Sentinels promoted the replica");

            Wait.until("a task added after the kill runs (work resumed); Sentinel logs in " + redis.logDirectories(),
                    Duration.ofSeconds(40), () -> resumedAt.get() != 0);
            long resumedAfter = (resumedAt.get() - killedAt) / 1_000_000;
            Thread.sleep(2000); // two more seconds of load on the new master
            producing.set(false);
            for (Thread producer : producers) {
                producer.join(30_000);
                assertTrue(!producer.isAlive(), producer.getName() + " stopped");
            }

            Counts counts = settle(reader, Duration.ofSeconds(30));
            System.out.printf("Sentinel kill -9 of the master: added (acknowledged) %d, SUCCESS %d, lost %d, stuck %d,"
                            + " failed %d, extra runs %d, ids handed out twice %d, adds that failed %d;"
                            + " replica promoted after %d ms, work resumed after %d ms%n",
                    acknowledged.size(), counts.success, counts.lost, counts.stuck, counts.failed, counts.extraRuns,
                    idsHandedOutTwice.get(), failedAdds.get(), promotedAfter, resumedAfter);

            assertEquals(0, idsHandedOutTwice.get(), "no id is handed out twice across the failover");
            assertEquals(0, counts.stuck, "no acknowledged task is left unfinished (" + counts.stuckExamples + ")");
            assertEquals(0, counts.failed, "no task failed (each has 3 attempts and its process never fails)");
            assertEquals(acknowledged.size(), counts.success + counts.lost,
                    "every acknowledged task either succeeded or is lost cleanly (no record left behind)");
        } finally {
            producing.set(false);
            for (EmbeddedWorker worker : workers) {
                worker.close();
            }
        }
    }

    private Object work(List<Object> args) {
        long id = ((Number) args.get(0)).longValue();
        runs.computeIfAbsent(id, key -> new AtomicInteger()).incrementAndGet();
        if (killedAt != 0 && id > highestIdBeforeKill && acknowledgedAfterKill(id)) {
            resumedAt.compareAndSet(0, System.nanoTime());
        }
        return "done";
    }

    private boolean acknowledgedAfterKill(long id) {
        // The producer may record the acknowledgement a moment after the worker already runs the task.
        return !acknowledged.containsKey(id) || acknowledged.get(id) > killedAt;
    }

    private void produce(String uri) {
        try (TaskpoolClient client = TaskpoolClient.connect(uri, COMMAND_TIMEOUT, Duration.ofSeconds(15))) {
            int n = 0;
            while (producing.get()) {
                try {
                    long id = client.add(TASK, "task-" + Thread.currentThread().getName() + "-" + n++).id();
                    if (acknowledged.putIfAbsent(id, System.nanoTime()) != null) {
                        idsHandedOutTwice.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    // Not acknowledged (the add's outcome stayed unknown past its deadline): not counted as added.
                    failedAdds.incrementAndGet();
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Counts(int success, int lost, int stuck, int failed, int extraRuns, List<String> stuckExamples) {
    }

    /** Waits (up to {@code limit}) for every acknowledged task to finish, then counts; the unfinished are "stuck". */
    private Counts settle(TaskpoolClient reader, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            int success = 0;
            int lost = 0;
            int failed = 0;
            List<String> stuck = new ArrayList<>();
            for (long id : acknowledged.keySet()) {
                Optional<TaskInfo> info = reader.get(TASK, id);
                if (info.isEmpty()) {
                    lost++;
                } else if (info.get().status() == TaskStatus.SUCCESS) {
                    success++;
                } else if (info.get().status() == TaskStatus.FAILURE) {
                    failed++;
                } else {
                    stuck.add("#" + id + " " + info.get().status());
                }
            }
            if (stuck.isEmpty() || System.nanoTime() > deadline) {
                int extraRuns = runs.values().stream().mapToInt(count -> count.get() - 1).sum();
                return new Counts(success, lost, stuck.size(), failed, extraRuns, stuck.subList(0, Math.min(5, stuck.size())));
            }
            Thread.sleep(200);
        }
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }
}
