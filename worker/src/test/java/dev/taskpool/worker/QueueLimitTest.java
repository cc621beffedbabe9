package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.ScanArgs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code size} bounds the waiting queue: a full queue refuses adds with 0 and writes nothing. */
class QueueLimitTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void aSmallQueueWithOneSlowWorkerRefusesMostOfTenQuickAdds() {
        String task = fixture.newTask("small");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 30, 2, "scripts.slow.Work", "")
                .script("slow", "function Work(id) { Process('utils.time.Sleep', 3000); return 'done'; }");
        try (Harness harness = Harness.open(app.dir())) {
            harness.startWorker();
            List<Long> accepted = new ArrayList<>();
            int refused = 0;
            for (int i = 0; i < 10; i++) {
                long id = harness.add(task, "job-" + i);
                if (id == 0) {
                    refused++;
                } else {
                    accepted.add(id);
                }
            }
            assertTrue(refused >= 6, "refused " + refused + " of 10, accepted " + accepted);
            assertEquals(accepted.size(), new HashSet<>(accepted).size(), "ids are distinct");
            // Refused adds left nothing behind: one hash per accepted task, and the counter moved
            // once per accepted task only.
            var sync = harness.redis.sync();
            List<String> hashes = sync.scan(ScanArgs.Builder.matches(Keys.of(task).taskPrefix() + "*").limit(1000)).getKeys();
            assertEquals(accepted.size(), hashes.size(), "task hashes " + hashes);
            assertEquals(Integer.toString(accepted.size()), sync.get(Keys.of(task).sequence()));
            assertTrue(sync.llen(Keys.of(task).waiting()) <= 2);
        }
    }
}
