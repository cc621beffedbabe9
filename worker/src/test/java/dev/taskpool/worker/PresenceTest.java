package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.Worker;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Workers that died without clearing their presence leave {@code taskpool:workers}; live ones stay. */
class PresenceTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void deadWorkersArePrunedAndWorkersWithARecordStay() {
        String task = fixture.newTask("presence");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 5, 10, "scripts.w.Work", "")
                .script("w", "function Work(id) { return id; }");
        String dead = fixture.newTask("dead-worker");
        String slow = fixture.newTask("long-lease-worker");
        try (Harness harness = Harness.open(app.dir())) {
            var raw = harness.redis.sync();
            long hourAgo = System.currentTimeMillis() - 3_600_000;
            raw.zadd(Keys.WORKERS, hourAgo, dead);
            // last seen long ago by this worker's lease, but its record is still there (a much longer lease)
            raw.zadd(Keys.WORKERS, hourAgo, slow);
            raw.set(Keys.worker(slow), "{}");
            Worker worker = harness.startWorker();
            Wait.until("the dead worker is pruned", Duration.ofSeconds(60), () -> raw.zscore(Keys.WORKERS, dead) == null);
            assertNotNull(raw.zscore(Keys.WORKERS, slow), "a worker whose record exists stays");
            assertNotNull(raw.zscore(Keys.WORKERS, worker.settings().workerId()), "this worker is present");
            raw.zrem(Keys.WORKERS, slow);
            raw.del(Keys.worker(slow));
        }
    }
}
