package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code attempts: 2} means three runs, then FAILURE with the error, and exactly one error event. */
class RetryAndFailureTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void attemptsTwoMeansThreeRunsThenFailureAndOneErrorEvent() {
        String task = fixture.newTask("flaky");
        AtomicInteger runs = new AtomicInteger();
        List<List<Object>> errorEvents = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry()
                .register("probe.run", args -> runs.incrementAndGet())
                .register("probe.error", args -> errorEvents.add(args));
        TestApp app = TestApp.in(dir)
                .task(task, 2, 2, 50, 5, 10, "scripts.flaky.Fail", "\"event\": {\"error\": \"scripts.flaky.OnError\"}")
                .script("flaky", """
                        function Fail(id, what) {
                          Process('probe.run', id);
                          throw new Error(`disk on fire while ${what}`);
                        }
                        function OnError(id, err) {
                          Process('probe.error', id, `${err}`, err.message, err instanceof Error);
                        }
                        """);
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            List<TaskEvent> events = new CopyOnWriteArrayList<>();
            try (var ignored = harness.client.subscribe(task, 1, events::add)) {
                long id = harness.add(task, "saving");
                assertEquals(1, id);
                TaskInfo info = harness.await(task, id);
                assertEquals(TaskStatus.FAILURE, info.status());
                assertEquals("disk on fire while saving", info.error());
                assertEquals(3, info.attempt());
            }
            assertEquals(3, runs.get(), "runs");
            waitFor(() -> errorEvents.size() == 1);
            assertEquals(1, errorEvents.size(), "error events " + errorEvents);
            assertEquals(List.of(1L, "Error: disk on fire while saving", "disk on fire while saving", true), errorEvents.getFirst());
            waitFor(() -> events.stream().anyMatch(TaskEvent::isFinal));
            // Each run is a fetch of its own: a retry gives the task back to wait, and the next run starts anew.
            assertEquals(List.of("added", "started", "retry", "started", "retry", "started", "failure"),
                    events.stream().map(TaskEvent::event).toList());
            assertEquals(3, events.getLast().message().get("attempt").asInt());
        }
    }

    @Test
    void aTaskThatSucceedsOnItsSecondRunEndsInSuccess() {
        String task = fixture.newTask("second");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 3, 10, 5, 10, "scripts.second.Work", "")
                .script("second", """
                        function Work(id) {
                          const runs = Process('probe.runs.Next');
                          if (runs < 2) throw new Error('not yet');
                          return { runs: runs };
                        }
                        """);
        AtomicInteger counter = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("probe.runs.Next", args -> counter.incrementAndGet());
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            long id = harness.add(task);
            TaskInfo info = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, info.status());
            assertEquals(2, info.attempt());
            assertEquals("not yet", info.error(), "the last failed run's error stays readable");
            assertEquals(2, info.response().get("runs").asInt());
        }
    }

    /** Waits up to 10 s for {@code condition}; fails the test when it does not come true. */
    static void waitFor(BooleanSupplier condition) {
        Wait.until("a condition of this test", Duration.ofSeconds(60), condition);
    }
    /**
     * A run whose retry cannot be recorded (here Redis refuses it: the `retried` counter holds
     * garbage) leaves the task to the recoverer, which runs it again. It used to end the task in
     * FAILURE with the Redis error, spending the runs it had left for a cause that was not the task's.
     */
    @Test
    void aRetryThatCannotBeRecordedLeavesTheTaskToTheRecovererInsteadOfFailingIt() {
        String task = fixture.newTask("retrylost");
        Keys keys = Keys.of(task);
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<Harness> harnessRef = new AtomicReference<>();
        ProcessRegistry registry = new ProcessRegistry().register("models.retrylost.work", args -> {
            if (runs.incrementAndGet() == 1) {
                // Break what only the retry writes, then fail the run; the key is repaired once
                // the run has given up recording its retry.
                harnessRef.get().redis.sync().hset(keys.stats(), "retried", "garbage");
                throw new IllegalStateException("first run fails on purpose");
            }
            return "done";
        });
        TestApp app = TestApp.in(dir).task(task, 1, 2, 0, 30, 10, "models.retrylost.work", "");
        try (Harness harness = Harness.open(app.dir(), registry); LogCapture log = new LogCapture()) {
            harnessRef.set(harness);
            harness.startWorker(Harness.FAST.withLease(Duration.ofSeconds(2), Duration.ofMillis(400)));
            long id = harness.add(task);
            Wait.until("the run gave up recording its retry", Duration.ofSeconds(60),
                    () -> log.lines().stream().anyMatch(line -> line.contains("could not record the retry")
                            || line.contains("FAILURE after")));
            harness.redis.sync().hdel(keys.stats(), "retried");
            TaskInfo info = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, info.status(), "the task ran again instead of failing: " + info);
            assertEquals(2, runs.get(), "runs");
            assertTrue(log.lines().stream().anyMatch(line -> line.contains("could not record the retry")
                    && line.contains(keys.stats())), "the log names the key that refused the retry: " + log.lines());
        }
    }
}
