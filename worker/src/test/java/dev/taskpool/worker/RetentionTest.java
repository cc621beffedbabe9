package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Finished tasks expire after `keep`; what a long stream leaves behind is a handful of keys and the counters. */
class RetentionTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    private static final int TASKS = 2000;
    private static final int ROUNDS = 4;

    @TempDir
    Path dir;

    @Test
    void aLongStreamOfTasksLeavesABoundedNumberOfKeys() throws InterruptedException {
        String task = fixture.newTask("stream");
        TestApp app = TestApp.in(dir).task(task, """
                {"name": "stream", "worker_nums": 8, "attempts": 0, "attempt_after": 0, "timeout": 5, "size": 100000,
                 "keep": 1, "process": "java.noop.Run"}""").script("unused", "function Nothing() {}");
        ProcessRegistry registry = new ProcessRegistry().register("java.noop.Run", args -> args.getFirst());
        try (Harness harness = Harness.open(app.dir(), registry);
             // a short command timeout: request ids are remembered for six of them
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri(), Duration.ofSeconds(1))) {
            RedisClusterCommands<String, String> redis = harness.redis.sync();
            harness.startWorker();
            List<Long> memoryAfterRound = new ArrayList<>();
            List<String> left = List.of();
            for (int round = 1; round <= ROUNDS; round++) {
                for (int i = 0; i < TASKS; i++) {
                    assertTrue(client.add(task, i).id() > 0);
                }
                long expected = (long) TASKS * round;
                RetryAndFailureTest.waitFor(() -> harness.runtime.reads().stats(task).get("succeeded") == expected);
                long peak = usedMemory(redis);
                long deadline = System.nanoTime() + 60_000_000_000L;
                left = keysOf(redis, task);
                while (left.size() > 4 && System.nanoTime() < deadline) {
                    Thread.sleep(250);
                    left = keysOf(redis, task);
                }
                memoryAfterRound.add(usedMemory(redis));
                System.out.printf("retention round %d: %d tasks; used_memory with them kept %d, after they expired %d bytes;"
                        + " %d keys left%n", round, TASKS, peak, memoryAfterRound.getLast(), left.size());
            }
            assertTrue(left.size() <= 4, "keys left: " + left);
            assertTrue(left.stream().allMatch(key -> key.endsWith(":def") || key.endsWith(":seq") || key.endsWith(":stats")
                    || key.contains(":claim:")), left.toString());
            Map<String, Long> counters = harness.runtime.reads().stats(task);
            assertEquals((long) TASKS * ROUNDS, counters.get("added"));
            assertEquals((long) TASKS * ROUNDS, counters.get("succeeded"));
            // Memory does not grow with the number of tasks that passed through: after the first
            // round (which sizes Redis' tables), each round ends where the previous one did.
            long growth = memoryAfterRound.getLast() - memoryAfterRound.get(1);
            assertTrue(growth < 100_000, "used_memory after each round " + memoryAfterRound);
        }
    }

    private static long usedMemory(RedisClusterCommands<String, String> redis) {
        return redis.info("memory").lines().filter(line -> line.startsWith("used_memory:")).findFirst()
                .map(line -> Long.parseLong(line.substring("used_memory:".length()).trim())).orElseThrow();
    }

    private static List<String> keysOf(RedisClusterCommands<String, String> redis, String task) {
        List<String> keys = new ArrayList<>();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches("taskpool:{" + task + "}:*").limit(1000));
            keys.addAll(page.getKeys());
            cursor = page;
        } while (!cursor.isFinished());
        return keys;
    }
}
