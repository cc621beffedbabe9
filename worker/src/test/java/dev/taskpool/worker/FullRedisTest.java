package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redis full (maxmemory reached, policy noeviction) while tasks wait and run: adds are refused,
 * but workers go on finishing, retrying, reporting progress and extending leases, so the queue
 * drains; a worker started meanwhile starts and works; no task fails for a cause that did not
 * happen; the log says what is wrong once per interval. Prints the figures the issue asks for.
 */
class FullRedisTest {
    private static final int TASKS = 120;
    private static final String TASK = "full";

    @TempDir
    Path dir;

    @Test
    void aFullRedisRefusesAddsAndStillDrainsItsQueue() throws Exception {
        AtomicReference<Harness> first = new AtomicReference<>();
        Set<Long> failedOnce = ConcurrentHashMap.newKeySet();
        // Every 20th task runs longer than the lease (only heartbeats keep it); every 10th fails its
        // first run (a retry); each reports progress.
        ProcessRegistry registry = new ProcessRegistry().register("models.full.work", args -> {
            long id = ((Number) args.getFirst()).longValue();
            first.get().call("tasks." + TASK + ".progress", id, 1, 2, "halfway");
            sleep(id % 20 == 0 ? 3000 : 100);
            if (id % 10 == 5 && failedOnce.add(id)) {
                throw new IllegalStateException("first run of #" + id + " fails on purpose");
            }
            return "done " + id;
        });
        TestApp app = TestApp.in(dir).task(TASK, 2, 2, 0, 30, 100_000, "models.full.work", "");
        WorkerSettings settings = WorkerSettings.defaults().withLease(Duration.ofSeconds(2), Duration.ofMillis(400))
                .withRecoverInterval(Duration.ofSeconds(1)).withShutdownGrace(Duration.ofSeconds(5));
        Keys keys = Keys.of(TASK);
        try (LocalRedis redis = LocalRedis.startServer(List.of("--maxmemory-policy", "noeviction"));
             Harness one = Harness.open(app.dir(), registry, redis.uri());
             LogCapture log = new LogCapture()) {
            first.set(one);
            RedisClusterCommands<String, String> raw = one.redis.sync();
            for (int i = 0; i < TASKS; i++) {
                one.client.add(TASK, i);
            }
            one.startWorker(settings.withWorkerId("first"));
            Wait.until("10 tasks done before Redis fills", Duration.ofSeconds(60), () -> stats(raw, keys, "succeeded") >= 10);

            // Fill Redis: a limit just above what it uses, then junk until it refuses.
            long used = Long.parseLong(info(raw, "used_memory"));
            raw.configSet("maxmemory", Long.toString(used + 1024 * 1024));
            int junk = 0;
            while (true) {
                try {
                    raw.set("junk:" + junk++, "x".repeat(10_000));
                } catch (RuntimeException e) {
                    assertTrue(e.getMessage().contains("OOM"), "filling stopped because Redis is full: " + e.getMessage());
                    break;
                }
            }
            // Right at the limit, memory wobbles around it (client buffers come and go), so a command may
            // find Redis just below it; a limit 1 MB under what it holds keeps it full for the whole test.
            raw.configSet("maxmemory", Long.toString(Long.parseLong(info(raw, "used_memory")) - 1024 * 1024));
            long fullAt = System.nanoTime();
            long succeededBefore = stats(raw, keys, "succeeded");
            long failedBefore = stats(raw, keys, "failed");
            long waitingWhenFull = raw.llen(keys.waiting());
            int logLinesBefore = log.lines().size();

            int refusedAdds = 0;
            for (int i = 0; i < 5; i++) {
                TaskpoolException refused = assertThrows(TaskpoolException.class, () -> one.client.add(TASK, "more"),
                        "an add while Redis is full is refused");
                assertTrue(refused.getMessage().contains("is full (used memory reached maxmemory")
                        && refused.getMessage().contains("nothing was written"), "the add says Redis is full: " + refused.getMessage());
                if (i == 0) {
                    System.out.println("FULL REDIS: an add while full says: " + refused.getMessage());
                }
                refusedAdds++;
            }

            // A worker starts against the full Redis: its definition is already there, the same.
            try (Harness two = Harness.open(app.dir(), registry, redis.uri())) {
                Worker second = two.startWorker(settings.withWorkerId("second"));
                Wait.until("the queue drained while Redis is full", Duration.ofSeconds(60),
                        () -> raw.llen(keys.waiting()) == 0 && raw.zcard(keys.leases()) == 0);
                long drainMillis = (System.nanoTime() - fullAt) / 1_000_000;
                assertThrows(TaskpoolException.class, () -> one.client.add(TASK, "still full"),
                        "Redis was full the whole time the queue drained");

                long finishedWhileFull = stats(raw, keys, "succeeded") - succeededBefore;
                long failedWhileFull = stats(raw, keys, "failed") - failedBefore;
                long byTheSecond = 0;
                for (long id = 1; id <= TASKS; id++) {
                    Map<String, String> hash = raw.hgetall(keys.task(id));
                    assertEquals("SUCCESS", hash.get("status"), "task #" + id + ": " + hash);
                    if ("second".equals(hash.get("worker"))) {
                        byTheSecond++;
                    }
                }
                List<String> linesWhileFull = log.lines().subList(logLinesBefore, log.lines().size()).stream()
                        .filter(line -> line.startsWith("WARN") || line.startsWith("ERROR")).toList();
                System.out.printf("FULL REDIS: %d tasks queued, %d waiting when Redis filled up; while full: 0 added"
                                + " (%d adds refused), %d finished (SUCCESS), %d FAILED, %d recovered, %d retried;"
                                + " queue drained %d ms after Redis filled up; the worker started while full ran %d;"
                                + " %d warning lines while full%n",
                        TASKS, waitingWhenFull, refusedAdds, finishedWhileFull, failedWhileFull,
                        stats(raw, keys, "recovered"), stats(raw, keys, "retried"), drainMillis, byTheSecond,
                        linesWhileFull.size());
                linesWhileFull.forEach(line -> System.out.println("FULL REDIS log: " + line));

                assertEquals(0, failedWhileFull, "no task failed while Redis was full");
                assertEquals(0, stats(raw, keys, "recovered"), "no lease expired: heartbeats went on while full");
                assertTrue(finishedWhileFull > 0 && waitingWhenFull > 0, "work was left to finish while full");
                assertTrue(byTheSecond > 0, "the worker started while Redis was full ran tasks");
                assertTrue(stats(raw, keys, "retried") > 0, "retries were recorded");
                assertTrue(linesWhileFull.size() <= 6, "what is wrong is said once per interval, not per task: "
                        + linesWhileFull);
                assertTrue(linesWhileFull.stream().anyMatch(line -> line.contains("Redis is full")),
                        "the log says Redis is full: " + linesWhileFull);

                // Memory back (the junk deleted, the limit raised): adds work again and run.
                for (int i = 0; i < junk; i++) {
                    raw.del("junk:" + i);
                }
                raw.configSet("maxmemory", Long.toString(used + 64 * 1024 * 1024));
                long id = one.client.add(TASK, "after").id();
                assertEquals(TaskStatus.SUCCESS, one.await(TASK, id).status());
                assertEquals(0, second.runningCount());
            }
        }
    }

    private static long stats(RedisClusterCommands<String, String> raw, Keys keys, String counter) {
        String value = raw.hget(keys.stats(), counter);
        return value == null ? 0 : Long.parseLong(value);
    }

    private static String info(RedisClusterCommands<String, String> raw, String field) {
        for (String line : raw.info("memory").split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        throw new AssertionError("INFO memory has no " + field);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
