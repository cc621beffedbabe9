package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.LeaseLostException;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.TransitionResult;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reported case: a worker frozen past its lease (SIGSTOP) while another worker took the task
 * over, then resumed, wrote its progress into the other run's task (current 8 -> 2 -> 9) and
 * published it. A run that lost its lease must change nothing, progress included.
 */
class LeaseLostMidRunTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void progressFromARunThatLostItsLeaseIsRefusedAndPublishesNothing() throws Exception {
        String task = fixture.newTask("stale");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch thawed = new CountDownLatch(1);
        AtomicReference<Harness> harnessRef = new AtomicReference<>();
        AtomicReference<RuntimeException> refused = new AtomicReference<>();
        ProcessRegistry registry = new ProcessRegistry().register("models.stale.work", args -> {
            long id = ((Number) args.getFirst()).longValue();
            harnessRef.get().call("tasks." + task + ".progress", id, 1, 10, "started");
            started.countDown();
            // Frozen: neither the heartbeat (its interval is longer than the test) nor this run moves.
            awaitIgnoringInterrupts(thawed);
            try {
                harnessRef.get().call("tasks." + task + ".progress", id, 2, 10, "stale");
            } catch (RuntimeException e) {
                refused.set(e);
            }
            return "stale result";
        });
        TestApp app = TestApp.in(dir).task(task, 1, 1, 0, 60, 10, "models.stale.work", "");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harnessRef.set(harness);
            harness.startWorker(WorkerSettings.defaults().withLease(Duration.ofSeconds(60), Duration.ofSeconds(50))
                    .withRecoverInterval(Duration.ofSeconds(60)));
            List<TaskEvent> events = new CopyOnWriteArrayList<>();
            try (var ignored = harness.client.subscribeAll(task, events::add)) {
                long id = harness.client.add(task).id();
                assertTrue(started.await(60, TimeUnit.SECONDS), "the run started");

                // Meanwhile its lease runs out, another worker's recoverer requeues it and another worker takes it.
                RunStore runStore = harness.runtime.runs();
                long now = System.currentTimeMillis();
                assertEquals(1, runStore.recover(task, now + 120_000, 10).get().requeued());
                FetchedTask other = runStore.fetch(task, 1, now, now + 60_000, "other", Duration.ofSeconds(60)).get().getFirst();
                runStore.progress(task, id, 8, 10, "other run", now, other.token());

                thawed.countDown();
                Wait.until("the stale run's progress call returned", Duration.ofSeconds(60), () -> refused.get() != null);
                assertTrue(refused.get() instanceof LeaseLostException
                                || refused.get().getCause() instanceof LeaseLostException,
                        "the processor is told its run lost the task: " + refused.get());
                assertTrue(refused.get().getMessage().contains("progress not recorded: this run (lease "),
                        refused.get().getMessage());

                runStore.progress(task, id, 9, 10, "other run", now, other.token());
                Wait.until("the other run's progress 9 was published", Duration.ofSeconds(60), () -> events.stream()
                        .anyMatch(e -> e.event().equals(TaskEvent.PROGRESS) && e.message().path("current").asLong() == 9));
                // Pub/sub keeps the order of one channel: a stale event would have come before the 9.
                List<Long> progress = events.stream().filter(e -> e.event().equals(TaskEvent.PROGRESS))
                        .map(e -> e.message().path("current").asLong()).toList();
                assertEquals(List.of(1L, 8L, 9L), progress, "no progress event from the run that lost its lease");
                TaskInfo info = harness.client.get(task, id).orElseThrow();
                assertEquals(9, info.current());
                assertEquals(TaskStatus.RUNNING, info.status());
                assertEquals("other", info.worker(), "the task is still the other worker's");

                assertEquals(TransitionResult.DONE, runStore.complete(other, TaskStatus.SUCCESS, "\"other's\"", now,
                        Duration.ofSeconds(60)).get());
                assertEquals("other's", harness.await(task, id).response().asText(), "the stale result was not recorded");
            }
        }
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        while (true) {
            try {
                if (latch.await(30, TimeUnit.SECONDS)) {
                    return;
                }
                throw new IllegalStateException("the test never thawed the run");
            } catch (InterruptedException e) {
                // a frozen process does not react either
            }
        }
    }
}
