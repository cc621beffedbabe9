package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.metrics.KindGauges;
import dev.taskpool.worker.process.ProcessRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** An operator's view of and actions on delayed tasks, with a real worker serving the kind. */
class DelayedOperatorTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void runNowMakesAFarFutureTaskRunOnAnIdleWorkerAndItRunsBeforeTheOtherDelayedOnes() {
        String task = fixture.newTask("runnow");
        List<Long> ran = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry().register("probe.ran", args -> ran.add(((Number) args.get(0)).longValue()));
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 30, 100, "scripts.w.Work", "")
                .script("w", "function Work(id) { Process('probe.ran', id); return id; }");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker(Harness.FAST);
            TaskOperations operations = harness.client.operations();
            long first = harness.client.addWith(task, AddOptions.delay(Duration.ofDays(2)), 1).id();
            long second = harness.client.addWith(task, AddOptions.delay(Duration.ofDays(1)), 2).id();
            assertEquals(2, operations.stats(task).delayed());
            assertEquals(TaskStatus.WAITING, harness.client.get(task, first).orElseThrow().status());

            operations.runNow(task, first, "ops");
            assertEquals(TaskStatus.SUCCESS, harness.await(task, first).status(), "the idle worker was woken for it");
            assertEquals(List.of(first), ran, "only the task run now ran");
            assertEquals(TaskStatus.WAITING, harness.client.get(task, second).orElseThrow().status(), "the other still waits");
            assertEquals(1, operations.stats(task).delayed());
            assertEquals(0, operations.stats(task).ready());
        }
    }

    @Test
    void theRecovererRemovesADelayedEntryWhoseTaskIsGoneAndKeepsTheOthers() {
        String task = fixture.newTask("healdelayed");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 30, 100, "scripts.w.Work", "")
                .script("w", "function Work(id) { return id; }");
        try (Harness harness = Harness.open(app.dir())) {
            long kept = harness.client.addWith(task, AddOptions.delay(Duration.ofDays(1)), 1).id();
            long dangling = harness.client.addWith(task, AddOptions.delay(Duration.ofDays(1)), 2).id();
            Keys keys = Keys.of(task);
            // Corrupting real Redis on purpose: the hash goes, its entry in the delayed set stays.
            fixture.raw().del(keys.task(dangling));
            harness.startWorker(Harness.FAST);
            Wait.until("the recoverer removed the dangling entry", LIMIT,
                    () -> fixture.raw().zscore(keys.delayed(), Long.toString(dangling)) == null);
            assertEquals(List.of(Long.toString(kept)), fixture.raw().zrange(keys.delayed(), 0, -1));
            assertEquals(TaskStatus.WAITING, harness.client.get(task, kept).orElseThrow().status());
        }
    }

    @Test
    void theKindGaugesShowTheReadyAndTheDelayedApart() {
        String task = fixture.newTask("delayedgauges");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 30, 100, "scripts.w.Work", "")
                .script("w", "function Work(id) { return id; }");
        try (Harness harness = Harness.open(app.dir())) {
            harness.client.add(task, 1);
            harness.client.addWith(task, AddOptions.delay(Duration.ofDays(1)), 2);
            harness.client.addWith(task, AddOptions.delay(Duration.ofDays(1)), 3);
            MeterRegistry meters = new SimpleMeterRegistry();
            new KindGauges(harness.client.operations(), meters).watch(task);
            assertEquals(3, meters.get("taskpool.queue.waiting").tag("task", task).gauge().value(), "ready and delayed");
            assertEquals(1, meters.get("taskpool.queue.ready").tag("task", task).gauge().value());
            assertEquals(2, meters.get("taskpool.queue.delayed").tag("task", task).gauge().value());
            assertTrue(meters.get("taskpool.queue.delayed").gauge().getId().getDescription().contains("due time"));
        }
    }
}
