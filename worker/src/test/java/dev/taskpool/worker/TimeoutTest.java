package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code timeout} really stops a run: the script is interrupted, its slot freed, its CPU released. */
class TimeoutTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void anEndlessScriptIsInterruptedAtItsTimeoutAndTheWorkerGoesOn() {
        String task = fixture.newTask("spin");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 1, 10, "scripts.spin.Work", "")
                .script("spin", """
                        function Work(id, mode) {
                          if (mode === 'spin') { let n = 0; while (true) { n++; } }
                          if (mode === 'sleep') { Process('utils.time.Sleep', 60000); }
                          return 'done ' + mode;
                        }
                        """);
        try (Harness harness = Harness.open(app.dir())) {
            harness.startWorker();
            long spinning = harness.add(task, "spin");
            long sleeping = harness.add(task, "sleep");
            long quick = harness.add(task, "quick");

            TaskInfo spun = harness.await(task, spinning);
            assertEquals(TaskStatus.FAILURE, spun.status());
            assertTrue(spun.error().startsWith("timeout: run 1 took longer than 1s"), spun.error());
            long ranFor = spun.finishedAt() - spun.startedAt();
            assertTrue(ranFor >= 1000, "not stopped before its timeout: " + ranFor + " ms");
            // The loop really stopped on its interrupt: a script that ignored it would have been
            // abandoned (its thread left spinning), and the error would say so.
            assertTrue(!spun.error().contains("abandoned"), "the endless loop was interrupted, not abandoned: " + spun.error());

            TaskInfo slept = harness.await(task, sleeping);
            assertEquals(TaskStatus.FAILURE, slept.status(), "a script waiting in Sleep is interrupted too");
            assertTrue(slept.error().startsWith("timeout") && !slept.error().contains("abandoned"), slept.error());

            // worker_nums is 1: the quick task can only run if the timed-out runs gave their slot back.
            TaskInfo done = harness.await(task, quick);
            assertEquals(TaskStatus.SUCCESS, done.status());
            assertEquals("done quick", done.response().asText());

        }
    }

    @Test
    void aJavaProcessorThatIgnoresItsInterruptIsAbandonedAndItsSlotFreed() {
        String task = fixture.newTask("stubborn");
        AtomicBoolean release = new AtomicBoolean();
        AtomicInteger interrupts = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry()
                .register("java.stubborn.Work", args -> {
                    if ("quick".equals(args.get(1))) {
                        return "quick";
                    }
                    while (!release.get()) {          // ignores interrupts on purpose
                        if (Thread.interrupted()) {
                            interrupts.incrementAndGet();
                        }
                        Thread.onSpinWait();
                    }
                    return "released";
                });
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 1, 10, "java.stubborn.Work", "")
                .script("unused", "function Nothing() {}");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker(Harness.FAST.withAbandonAfter(Duration.ofMillis(500)));
            long stuck = harness.add(task, "stuck");
            long quick = harness.add(task, "quick");
            TaskInfo abandoned = harness.await(task, stuck);
            assertEquals(TaskStatus.FAILURE, abandoned.status());
            assertTrue(abandoned.error().contains("the processor ignored its interrupt; its thread was abandoned"),
                    abandoned.error());
            assertTrue(interrupts.get() >= 1, "the processor was interrupted first");
            // worker_nums is 1: the quick task runs only because the abandoned run freed its slot.
            assertEquals("quick", harness.await(task, quick).response().asText());
        } finally {
            release.set(true);
        }
    }
}
