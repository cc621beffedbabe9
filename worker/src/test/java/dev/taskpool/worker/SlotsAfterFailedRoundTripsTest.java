package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Round trips that fail (Redis refuses the fetch: here a key of the wrong type) give back what they
 * took: the slots they claimed and their round-trip permit. Once Redis takes them again, the worker
 * runs {@code worker_nums} tasks at once, not fewer.
 */
class SlotsAfterFailedRoundTripsTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    private static final String PROCESS = "models.gate.work";
    private static final int SLOTS = 3;

    @TempDir
    Path dir;

    @Test
    void afterFailedRoundTripsEverySlotRunsATaskAgain() {
        String task = fixture.newTask("slots");
        TestApp app = TestApp.in(dir).task(task, SLOTS, 1, 0, 60, 100, PROCESS, "");
        AtomicInteger running = new AtomicInteger();
        AtomicBoolean released = new AtomicBoolean();
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> {
            running.incrementAndGet();
            try {
                while (!released.get()) {
                    Thread.sleep(10);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("interrupted", e);
            } finally {
                running.decrementAndGet();
            }
            return "ran";
        });
        try (Harness harness = Harness.open(app.dir(), registry)) {
            Keys keys = Keys.of(task);
            var raw = harness.redis.sync();
            raw.set(keys.leases(), "garbage");   // every fetch is refused, nothing changed, until repaired
            harness.startWorker();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < SLOTS; i++) {
                ids.add(harness.client.add(task, i).id());
            }
            long callsBefore = harness.runtime.scriptCalls();
            Wait.until("three round trips to fail (one a second, after a back-off)", Duration.ofSeconds(60),
                    () -> harness.runtime.scriptCalls() >= callsBefore + 3);
            raw.del(keys.leases());
            try {
                Wait.until(SLOTS + " tasks to run at once after the repair", Duration.ofSeconds(30),
                        () -> running.get() == SLOTS);
            } finally {
                released.set(true);
            }
            for (long id : ids) {
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status(), "task #" + id);
            }
        }
    }
}
