package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.KeyValue;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run that is told to stop from outside (its lease lost, the worker stopping) stops and records
 * nothing but what the order asks for, and a second run of the same id in one worker keeps its own
 * heartbeat and timeout.
 */
class StopAndLeaseTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void aRunWhoseLeaseIsLostMidRunStopsRecordsNothingAndFreesItsSlot() throws Exception {
        String task = fixture.newTask("lost");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.lost.Work", args -> {
            if ("quick".equals(args.get(1))) {
                return "quick";
            }
            calls.incrementAndGet();
            started.countDown();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw new IllegalStateException("interrupted in its sleep");
            }
            return "slept";
        });
        // attempts 2: a lost run that counted as a failure would be retried here.
        TestApp app = TestApp.in(dir).task(task, 1, 2, 0, 60, 10, "java.lost.Work", "");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            Worker worker = harness.startWorker();
            long id = harness.add(task, "long");
            await(started, "the run to start");

            // Another worker's recoverer finds the lease expired and another worker takes the task.
            expireLeaseAndRecover(harness, task, id, worker.settings().workerId() + "/1");
            RunStore runStore = harness.runtime.runs();
            TaskReads taskReads = harness.runtime.reads();
            long now = System.currentTimeMillis();
            var taken = runStore.await(runStore.fetch(task, 1, now, now + 60_000, "other-worker", Duration.ofHours(1)), "fetch");
            assertEquals(1, taken.size(), "the other worker takes the recovered task");

            await(interrupted, "the heartbeat to find the lease lost and interrupt the run");
            waitFor(() -> worker.runningCount() == 0, "the stopped run to leave the worker");

            Map<String, String> hash = harness.redis.sync().hgetall(Keys.of(task).task(id));
            assertEquals("other-worker", hash.get("worker"), "the task stays the other worker's: " + hash);
            assertEquals("2", hash.get("attempt"), "the other worker's run is the second: " + hash);
            assertEquals("RUNNING", hash.get("status"), "nothing recorded over the other worker's run: " + hash);
            assertNull(hash.get("response"), "no result recorded: " + hash);
            Map<String, Long> stats = taskReads.stats(task);
            assertEquals(0L, stats.get("retried"), "the stopped run was not retried: " + stats);
            assertEquals(0L, stats.get("failed"), "the stopped run did not fail the task: " + stats);
            assertEquals(1, calls.get(), "the processor ran once");

            // worker_nums is 1: the next task runs only if the stopped run gave its slot back.
            long quick = harness.add(task, "quick");
            assertEquals("quick", harness.await(task, quick).response().asText());
        }
    }

    @Test
    void aGracefulStopAfterAFailedRunLeavesItsRetryWaitingInRedis() {
        String task = fixture.newTask("between");
        AtomicInteger calls = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.between.Work", args -> {
            calls.incrementAndGet();
            throw new IllegalStateException("boom");
        });
        // attempts 1, attempt_after 4 s: the failed run's task waits out the 4 s in Redis, not in the
        // worker, so the stop has no run to wait for, and the retry stays as it was recorded.
        TestApp app = TestApp.in(dir).task(task, 1, 1, 4000, 60, 10, "java.between.Work", "");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            Worker worker = harness.startWorker(Harness.FAST.withShutdownGrace(Duration.ofMillis(100)));
            long id = harness.add(task, "x");
            waitFor(() -> calls.get() == 1 && harness.runtime.reads().stats(task).getOrDefault("retried", 0L) == 1,
                    "the first run to fail and its retry to be recorded");

            worker.close();

            TaskInfo waiting = harness.client.get(task, id).orElseThrow();
            assertEquals(TaskStatus.WAITING, waiting.status(), "waiting for its next run, not left RUNNING");
            assertEquals(1, waiting.attempt(), "the failed run counts");
            assertNull(waiting.worker(), "no worker holds it");
            assertEquals("boom", waiting.error(), "the retry recorded the failed run's error");
            assertEquals(1, calls.get(), "the second run never started");
            assertEquals(0, worker.runningCount());
        }
    }

    @Test
    void aGracefulStopWhileATimedOutRunIsStillStoppingIsNotForgotten() throws Exception {
        String task = fixture.newTask("late");
        CountDownLatch timedOut = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.late.Work", args -> {
            calls.incrementAndGet();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                timedOut.countDown();
                long until = System.nanoTime() + 3_000_000_000L;   // takes 3 s to wind down, ignoring interrupts
                while (System.nanoTime() < until) {
                    Thread.interrupted();
                    Thread.onSpinWait();
                }
            }
            throw new IllegalStateException("gave up");
        });
        // attempts 1, timeout 1 s: the timed-out run would be retried, but the worker is told to stop
        // while that run is still winding down; the stop must outlast the end of the timeout.
        TestApp app = TestApp.in(dir).task(task, 1, 1, 0, 1, 10, "java.late.Work", "");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            Worker worker = harness.startWorker(Harness.FAST.withShutdownGrace(Duration.ofMillis(100)));
            long id = harness.add(task, "x");
            await(timedOut, "the run to be interrupted at its timeout");

            worker.close();

            TaskInfo handedBack = harness.client.get(task, id).orElseThrow();
            assertEquals(TaskStatus.WAITING, handedBack.status(), "handed back, not retried: " + handedBack);
            assertEquals(0, handedBack.attempt(), "the interrupted run does not count");
            assertEquals(0L, harness.runtime.reads().stats(task).get("retried"), "no retry after the stop");
            assertEquals(1, calls.get(), "no second run started after the stop");
        }
    }

    @Test
    void theSameIdFetchedAgainByOneWorkerKeepsTheNewRunsHeartbeatAndTimeout() throws Exception {
        String task = fixture.newTask("twice");
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch secondStarted = new CountDownLatch(1);
        AtomicBoolean releaseFirst = new AtomicBoolean();
        AtomicInteger firstInterrupts = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.twice.Work", args -> {
            if (calls.incrementAndGet() == 1) {
                firstStarted.countDown();
                while (!releaseFirst.get()) {   // stuck: ignores interrupts until the test lets it go
                    if (Thread.interrupted()) {
                        firstInterrupts.incrementAndGet();
                    }
                    Thread.onSpinWait();
                }
                return "first";
            }
            secondStarted.countDown();
            try {
                Thread.sleep(60_000);   // until its timeout
            } catch (InterruptedException e) {
                throw new IllegalStateException("interrupted in its sleep");
            }
            return "second";
        });
        // Two slots, two runs (attempts 1), a timeout (4 s) longer than the lease (2 s): the second
        // run times out only if it is still watched, and gets there only if its lease is kept alive.
        TestApp app = TestApp.in(dir).task(task, 2, 1, 0, 4, 10, "java.twice.Work", "");
        WorkerSettings settings = Harness.FAST.withLease(Duration.ofSeconds(2), Duration.ofMillis(400));
        try (Harness harness = Harness.open(app.dir(), registry)) {
            Worker worker = harness.startWorker(settings);
            long id = harness.add(task, "x");
            await(firstStarted, "the first run to start");

            // The lease expires while the first run is stuck; the recoverer puts the task back and
            // this same worker, which has a free slot, fetches it again.
            expireLeaseAndRecover(harness, task, id, settings.workerId() + "/1");
            await(secondStarted, "the same worker to fetch the task again");
            waitFor(() -> firstInterrupts.get() > 0, "the older run, whose lease is gone, to be told to stop");
            releaseFirst.set(true);   // the older run ends now; that must not end the newer one

            TaskInfo done = harness.await(task, id);
            assertEquals(TaskStatus.FAILURE, done.status());
            assertTrue(done.error().startsWith("timeout: run 2 took longer than 4s"),
                    "the second run timed out (it was watched, and its lease was kept alive): " + done.error());
            assertEquals(1L, harness.runtime.reads().stats(task).get("recovered"),
                    "recovered once (by the test), not again after a lost heartbeat");
            assertEquals(2, calls.get());
            waitFor(() -> worker.runningCount() == 0, "both runs to leave the worker");
        } finally {
            releaseFirst.set(true);
        }
    }

    @Test
    void theRecoverersErrorHandlerForADeadRunIsStoppedAtTheTasksTimeout() throws Exception {
        String task = fixture.newTask("dead");
        CountDownLatch handlerStarted = new CountDownLatch(1);
        CountDownLatch handlerStopped = new CountDownLatch(1);
        ProcessRegistry registry = new ProcessRegistry()
                .register("java.dead.Work", args -> "never runs here")
                .register("java.dead.OnError", args -> {
                    handlerStarted.countDown();
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        handlerStopped.countDown();
                        throw new IllegalStateException("interrupted in its sleep");
                    }
                    return null;
                });
        // attempts 0 and timeout 1 s: the dead run was the last one, and its handler gets 1 s.
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 1, 10, "java.dead.Work", "\"event\": {\"error\": \"java.dead.OnError\"}");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            long id = harness.add(task, "x");
            // A worker that died at once: it took the task under a lease that has already expired.
            RunStore runStore = harness.runtime.runs();
            TaskReads taskReads = harness.runtime.reads();
            long now = System.currentTimeMillis();
            assertEquals(1, runStore.await(runStore.fetch(task, 1, now, now - 1, "dead-worker", Duration.ofHours(1)), "fetch").size());

            harness.startWorker();   // its recoverer fails the task and runs the error handler
            TaskInfo failed = harness.await(task, id);
            assertEquals(TaskStatus.FAILURE, failed.status());
            assertTrue(failed.error().startsWith("lease expired: worker dead-worker did not renew it during run 1"), failed.error());
            await(handlerStarted, "the recoverer to run the error handler");
            await(handlerStopped, "the error handler to be stopped at the task's timeout");
        }
    }

    /** Expires the lease {@code token} of task {@code #id} and runs the recoverer until it has put the task back. */
    private static void expireLeaseAndRecover(Harness harness, String task, long id, String token) {
        var redis = harness.redis.sync();
        RunStore runStore = harness.runtime.runs();
        TaskReads taskReads = harness.runtime.reads();
        Keys keys = Keys.of(task);
        // The run holds its lease while the task is RUNNING under its worker and lease number (the token).
        for (int tries = 0; isHeldBy(redis.hmget(keys.task(id), "status", "worker", "lease_seq"), token); tries++) {
            if (tries == 50) {
                throw new AssertionError("could not expire the lease of task " + task + " #" + id
                        + ": the heartbeat renewed it every time");
            }
            redis.zadd(keys.leases(), 0, Long.toString(id));   // (the heartbeat may renew it in between: try again)
            runStore.await(runStore.recover(task, System.currentTimeMillis(), 10), "recover");
        }
    }

    private static boolean isHeldBy(List<KeyValue<String, String>> fields, String token) {
        return "RUNNING".equals(fields.get(0).getValueOrElse(null))
                && token.equals(fields.get(1).getValueOrElse("") + "/" + fields.get(2).getValueOrElse(""));
    }

    private static void await(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(60, TimeUnit.SECONDS)) {
            throw new AssertionError("timed out after 15 s waiting for " + what);
        }
    }

    private static void waitFor(BooleanSupplier condition, String what) {
        try {
            RetryAndFailureTest.waitFor(condition);
        } catch (AssertionError e) {
            throw new AssertionError("timed out waiting for " + what, e);
        }
    }
}
