package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.ControlException;
import dev.taskpool.core.ops.KindStats;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The operators' actions end to end: real Redis, a real worker running scripts, the Java client's operations. */
class ControlActionsTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    private static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static void waitFor(String what, BooleanSupplier condition) {
        Wait.until(what, LIMIT, condition);
    }

    /** A script that would do something visible after a long sleep, and an error handler that reports its calls. */
    private static final String SCRIPT = """
            function Work(id, mode) {
              if (mode === 'long') {
                Process('probe.started', id);
                Process('utils.time.Sleep', 20000);
                Process('probe.side', id);
                return 'late';
              }
              return 'quick ' + mode;
            }
            function OnError(id, err) { Process('probe.error', id, err.message); }
            """;

    @Test
    void aRunningTaskCanceledIsStoppedRecordsNothingMoreAndItsErrorHandlerRunsOnce() {
        String task = fixture.newTask("cancelrun");
        List<Long> started = new CopyOnWriteArrayList<>();
        AtomicInteger sideEffects = new AtomicInteger();
        List<List<Object>> errorCalls = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry()
                .register("probe.started", args -> started.add(((Number) args.get(0)).longValue()))
                .register("probe.side", args -> sideEffects.incrementAndGet())
                .register("probe.error", args -> errorCalls.add(List.copyOf(args)));
        // One slot and runs to spare: the quick task can only run once the canceled run let go
        // of the slot, and a canceled task must not run again.
        TestApp app = TestApp.in(dir).task(task, 1, 2, 0, 30, 10, "scripts.work.Work",
                "\"event\": {\"error\": \"scripts.work.OnError\"}").script("work", SCRIPT);
        try (Harness harness = Harness.open(app.dir(), registry)) {
            Worker worker = harness.startWorker();
            TaskOperations operations = harness.client.operations();
            long id = harness.add(task, "long");
            waitFor("the long run started", () -> started.contains(id));

            operations.cancel(task, id, "ann");

            TaskInfo canceled = harness.client.get(task, id).orElseThrow();
            assertEquals(TaskStatus.FAILURE, canceled.status(), "a canceled task is FAILURE at once");
            assertEquals("canceled by ann", canceled.error());
            waitFor("the error handler ran", () -> errorCalls.size() == 1);
            long quick = harness.add(task, "after");
            assertEquals(TaskStatus.SUCCESS, harness.await(task, quick).status(), "the slot was given back");
            waitFor("the canceled run left the worker", () -> worker.runningCount() == 0);

            assertEquals(0, sideEffects.get(), "the canceled script was stopped in its sleep, before its side effect");
            assertEquals(List.of(List.of(id, "canceled by ann")), errorCalls, "the error handler ran exactly once");
            TaskInfo after = harness.client.get(task, id).orElseThrow();
            assertEquals(TaskStatus.FAILURE, after.status(), "nothing the stopped run did was recorded");
            assertEquals("canceled by ann", after.error());
            assertEquals(1, after.attempt(), "no further run");
            KindStats stats = operations.stats(task);
            assertEquals(0, stats.retried(), "the canceled run was not retried");
            assertEquals(1, stats.canceled(), "canceled");
            assertEquals(1, stats.succeededTotal(), "only the quick task succeeded");
        }
    }

    @Test
    void aCanceledWaitingTaskLeavesTheQueueAndItsErrorHandlerRunsOnceOnAWorker() {
        String task = fixture.newTask("cancelwait");
        List<List<Object>> errorCalls = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry().register("probe.error", args -> errorCalls.add(List.copyOf(args)));
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 30, 10, "scripts.work.Work",
                "\"event\": {\"error\": \"scripts.work.OnError\"}").script("work", SCRIPT);
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            TaskOperations operations = harness.client.operations();
            operations.pause(task, "ops");   // so that the task is still waiting when it is canceled
            long id = harness.add(task, "never");
            operations.cancel(task, id, null);

            TaskInfo info = harness.client.get(task, id).orElseThrow();
            assertEquals(TaskStatus.FAILURE, info.status());
            assertEquals("canceled", info.error());
            assertEquals(0, operations.stats(task).waiting(), "it left the queue");
            waitFor("the error handler ran on the worker", () -> errorCalls.size() == 1);
            assertEquals(List.of(id, "canceled"), errorCalls.getFirst());

            operations.resume(task, "ops");
            long next = harness.add(task, "next");
            assertEquals(TaskStatus.SUCCESS, harness.await(task, next).status());
            assertEquals(0, info.attempt(), "the canceled task never ran");
            assertEquals(TaskStatus.FAILURE, harness.client.get(task, id).orElseThrow().status(), "and never will");
            assertEquals(1, errorCalls.size(), "the error handler ran exactly once: " + errorCalls);
        }
    }

    @Test
    void aPausedKindIsHeldWhileAddsGoOnAndRunningTasksFinishThenResumeRunsThem() throws Exception {
        String task = fixture.newTask("pause");
        String other = fixture.newTask("busy");
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry()
                .register("java.pause.Work", args -> {
                    runs.incrementAndGet();
                    if ("hold".equals(args.get(1))) {
                        try {
                            release.await(20, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException("interrupted", e);
                        }
                    }
                    return "done " + args.get(1);
                });
        TestApp app = TestApp.in(dir)
                .task(task, 2, 0, 0, 30, 3, "java.pause.Work", "")
                .task(other, 1, 0, 0, 30, 10, "java.pause.Work", "")
                .script("unused", "function Nothing() {}");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            TaskOperations operations = harness.client.operations();
            long holding = harness.add(task, "hold");
            waitFor("the first task runs", () -> runs.get() == 1);

            operations.pause(task, "ann");
            long[] held = {harness.add(task, "a"), harness.add(task, "b"), harness.add(task, "c")};
            assertTrue(held[0] > 0 && held[1] > 0 && held[2] > 0, "adds are accepted while paused");
            assertEquals(0, harness.add(task, "d"), "within size: a fourth waiting task (size 3) is refused");
            release.countDown();
            assertEquals(TaskStatus.SUCCESS, harness.await(task, holding).status(), "a running task finishes while paused");
            // The same worker still takes other kinds' tasks: it is alive and fetching.
            assertEquals(TaskStatus.SUCCESS, harness.await(other, harness.add(other, "x")).status());
            long calls = harness.runtime.scriptCalls();
            Thread.sleep(1000);
            long idleCalls = harness.runtime.scriptCalls() - calls;
            assertTrue(idleCalls <= 10, "a worker does not spin on a paused kind: " + idleCalls + " script calls in a second");
            for (long id : held) {
                assertEquals(TaskStatus.WAITING, harness.client.get(task, id).orElseThrow().status(), "#" + id + " is held");
            }
            KindStats stats = operations.stats(task);
            assertTrue(stats.paused(), "paused");
            assertEquals("ann", stats.pausedBy());
            assertEquals(3, stats.waiting(), "waiting: the three held tasks");

            operations.resume(task, "ann");
            for (long id : held) {
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status(), "#" + id + " runs after resume");
            }
            waitFor("every task ran", () -> operations.stats(task).waiting() == 0);
        }
    }

    @Test
    void retryOfOneAndOfAllFailedRunsThemAgainAndTheySucceed() {
        String task = fixture.newTask("retry");
        AtomicBoolean healthy = new AtomicBoolean();
        ProcessRegistry registry = new ProcessRegistry().register("java.retry.Work", args -> {
            if (!healthy.get()) {
                throw new IllegalStateException("database down");
            }
            return "ok " + args.get(1);
        });
        TestApp app = TestApp.in(dir).task(task, 2, 0, 0, 30, 10, "java.retry.Work", "")
                .script("unused", "function Nothing() {}");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            TaskOperations operations = harness.client.operations();
            long[] ids = {harness.add(task, 1), harness.add(task, 2), harness.add(task, 3)};
            for (long id : ids) {
                assertEquals(TaskStatus.FAILURE, harness.await(task, id).status());
            }
            ControlException refused = assertThrows(ControlException.class, () -> operations.delete(task, 999));
            assertTrue(refused.getMessage().contains("999 does not exist"), refused.getMessage());
            healthy.set(true);

            operations.retry(task, ids[0], "ann");
            TaskInfo first = harness.await(task, ids[0]);
            assertEquals(TaskStatus.SUCCESS, first.status(), "retried: " + first);
            assertEquals(1, first.attempt(), "a fresh run budget: run 1 again");
            var hash = harness.redis.sync().hgetall(Keys.of(task).task(ids[0]));
            assertEquals("database down", hash.get("previous_error"), "the previous error stays readable");
            assertEquals("1", hash.get("resubmitted"));

            assertEquals(2, operations.retryFailed(task, "ann"), "the two still failed");
            for (long id : List.of(ids[1], ids[2])) {
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status(), "#" + id);
            }
            assertEquals(0, operations.stats(task).failedRetained(), "no failure is left in the index");
            assertEquals(3, operations.list(task, TaskStatus.SUCCESS, 10, null).tasks().size());

            operations.delete(task, ids[0]);
            assertTrue(harness.client.get(task, ids[0]).isEmpty(), "deleted");
            assertEquals(2, operations.list(task, TaskStatus.SUCCESS, 10, null).tasks().size());
        }
    }
}
