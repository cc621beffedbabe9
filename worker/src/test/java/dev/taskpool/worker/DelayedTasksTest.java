package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.process.ProcessException;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delayed tasks with real workers: never before their due time, on time with nothing else to wake
 * an idle worker, earliest first, from a script's {@code tasks.<id>.addWith}, and bad options refused.
 * Order and counts only: the machine may be loaded, so no test asserts how soon after its due time a
 * task starts (the benchmark measures that).
 */
class DelayedTasksTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    private TestApp app(String task, int workerNums) {
        return TestApp.in(dir)
                .task(task, workerNums, 0, 0, 30, 100, "scripts.work.Run", "")
                .script("work", "function Run(name) { return name; }");
    }

    private long dueAt(Harness harness, String task, long id) {
        return Long.parseLong(harness.redis.sync().hget(Keys.of(task).task(id), "due_at"));
    }

    @Test
    void anIdleWorkerStartsADelayedTaskAfterItsDueTimeAndNotBefore() {
        String task = fixture.newTask("delayed");
        try (Harness harness = Harness.open(app(task, 2).dir())) {
            harness.startWorker();
            // Added by a script's addWith; nothing else happens afterwards to wake the idle worker.
            long id = ((Number) harness.call("tasks." + task + ".addWith", Map.of("delay", 1500), "later")).longValue();
            assertTrue(id > 0);
            long due = dueAt(harness, task, id);
            assertEquals(TaskStatus.WAITING, harness.client.get(task, id).orElseThrow().status());
            TaskInfo done = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, done.status());
            assertTrue(done.startedAt() >= due, "started at " + done.startedAt() + ", due at " + due);
            assertTrue(done.createdAt() + 1500 <= done.startedAt(), "a delay of 1.5 s from the add");
        }
    }

    @Test
    void anEarlierDueTimeAddedAfterALaterOneStartsFirst() {
        String task = fixture.newTask("earlier");
        try (Harness harness = Harness.open(app(task, 1).dir())) {
            harness.startWorker();
            long later = harness.client.addWith(task, AddOptions.delay(Duration.ofMillis(3000)), "later").id();
            long sooner = harness.client.addWith(task, AddOptions.delay(Duration.ofMillis(1000)), "sooner").id();
            TaskInfo first = harness.await(task, sooner);
            TaskInfo second = harness.await(task, later);
            assertTrue(first.startedAt() < second.startedAt(), first + " before " + second);
            assertTrue(first.startedAt() >= dueAt(harness, task, sooner));
            assertTrue(second.startedAt() >= dueAt(harness, task, later));
        }
    }

    @Test
    void severalIdleWorkersStartEachDelayedTaskOnceAndNoneEarly() {
        String task = fixture.newTask("many");
        try (Harness harness = Harness.open(app(task, 2).dir())) {
            for (int i = 0; i < 3; i++) {
                harness.startWorker(Harness.FAST.withWorkerId("delayed-" + i));
            }
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                ids.add(harness.client.addWith(task, AddOptions.delay(Duration.ofMillis(300 + 150L * i)), "t" + i).id());
            }
            for (long id : ids) {
                TaskInfo done = harness.await(task, id);
                assertEquals(TaskStatus.SUCCESS, done.status());
                assertEquals(1, done.attempt(), "started once");
                assertTrue(done.startedAt() >= dueAt(harness, task, id), "task #" + id + " started before its due time");
            }
            assertEquals(12, new HashSet<>(ids).size());
            assertEquals(0, harness.redis.sync().zcard(Keys.of(task).delayed()));
        }
    }

    @Test
    void dueTasksReachTheQueueWhileEverySlotIsBusy() {
        String task = fixture.newTask("busy");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 60, 100, "models.delayed.hold", "");
        CountDownLatch release = new CountDownLatch(1);
        ProcessRegistry registry = new ProcessRegistry().register("models.delayed.hold", args -> {
            if ("hold".equals(args.get(1))) {
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return "done";
        });
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            long slow = harness.client.add(task, "hold").id();
            Wait.until("the slow task holds the only slot", Duration.ofSeconds(30),
                    () -> harness.client.get(task, slow).orElseThrow().status() == TaskStatus.RUNNING);
            for (int i = 0; i < 3; i++) {
                harness.client.addWith(task, AddOptions.delay(Duration.ofMillis(200)), "quick");
            }
            var sync = harness.redis.sync();
            // No fetch can take them (no free slot): the watcher's timer, or the recoverer's pass, moves them.
            Wait.until("the due tasks leave the delayed set", Duration.ofSeconds(30), () -> sync.zcard(Keys.of(task).delayed()) == 0);
            List<String> queued = sync.lrange(Keys.of(task).waiting(), 0, -1);
            TaskInfo slowNow = harness.client.get(task, slow).orElseThrow();
            assertEquals(3, queued.size(), "all three are in the queue, counted as ready; the slow task: " + slowNow);
            assertEquals(TaskStatus.RUNNING, slowNow.status(), "while the slot is busy");
            release.countDown();
        }
    }

    @Test
    void badOptionsAreRefusedWithAClearMessageAndNothingIsWritten() {
        String task = fixture.newTask("bad");
        try (Harness harness = Harness.open(app(task, 1).dir())) {
            String process = "tasks." + task + ".addWith";
            assertRefused(harness, process, "tasks." + task + ".addWith: add option delay must not be negative, got -5 ms;"
                    + " nothing was added", Map.of("delay", -5), "a");
            Map<String, Object> both = new LinkedHashMap<>();
            both.put("delay", 10);
            both.put("at", 1);
            assertRefused(harness, process, "tasks." + task + ".addWith: add options delay and at exclude each other: give"
                    + " one of them; nothing was added", both, "a");
            assertRefused(harness, process, "tasks." + task + ".addWith: unknown add option 'prio' (value 3); the options"
                    + " are delay, at, key, priority; nothing was added", Map.of("prio", 3), "a");
            assertRefused(harness, process, "tasks." + task + ".addWith: add option priority must be an integer from 0 to 3,"
                    + " got 4; nothing was added", Map.of("priority", 4), "a");
            assertRefused(harness, process, "tasks." + task + ".addWith: add option key must be a string of 1 to 200"
                    + " characters, got 0 characters; nothing was added", Map.of("key", ""), "a");
            assertRefused(harness, process, "tasks." + task + ".addWith: its first argument must be the options object, e.g."
                    + " {\"delay\": 3000} or {\"at\": 1765090000000} (ms), got \"a\"; nothing was added", "a");
            assertFalse(harness.redis.sync().exists(Keys.of(task).sequence(), Keys.of(task).delayed(),
                    Keys.of(task).waiting()) > 0, "nothing was written");
            // No options (null) is a plain add.
            long id = ((Number) harness.call(process, null, "plain")).longValue();
            assertEquals(1, harness.redis.sync().llen(Keys.of(task).waiting()));
            assertTrue(id > 0);
        }
    }

    private static void assertRefused(Harness harness, String process, String message, Object... args) {
        ProcessException error = assertThrows(ProcessException.class, () -> harness.call(process, args));
        assertEquals(message, error.getMessage());
    }
}
