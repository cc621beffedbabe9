package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application's own Micrometer registry passed to {@link EmbeddedWorker}: what the worker did
 * shows in it (adds, ends, retries, an operator's cancel, run and wait timers, slots), with the
 * kind-wide gauges read from Redis and Lettuce's command latencies.
 */
class EmbeddedWorkerMetricsTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    private static final Duration LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void theApplicationsRegistryGetsTheWorkersMeters() {
        String task = fixture.newTask("embmetrics");
        List<Long> started = new CopyOnWriteArrayList<>();
        TestApp app = TestApp.in(dir).task(task, 3, 1, 0, 30, 50, "scripts.m.Work", "").script("m", """
                function Work(id, mode) {
                  if (mode === 'long') { Process('probe.started', id); Process('utils.time.Sleep', 20000); }
                  if (mode === 'bad') { throw new Error('bad'); }
                  return mode;
                }
                """);
        MeterRegistry meters = new SimpleMeterRegistry();
        try (EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri(), app.dir())
                .process("probe.started", args -> started.add(((Number) args.get(0)).longValue()))
                .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                .meterRegistry(meters)
                .start();
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            long good = ((Number) worker.call("tasks." + task + ".add", "ok")).longValue();
            long bad = ((Number) worker.call("tasks." + task + ".add", "bad")).longValue();
            long longRun = ((Number) worker.call("tasks." + task + ".add", "long")).longValue();
            assertEquals(TaskStatus.SUCCESS, client.await(task, good, LIMIT).status());
            assertEquals(TaskStatus.FAILURE, client.await(task, bad, LIMIT).status());
            Wait.until("the long run started", LIMIT, () -> started.contains(longRun));
            client.operations().cancel(task, longRun, "metrics-test");

            Wait.until("the worker counted the ends and the cancel", LIMIT, () -> count(meters, "succeeded", task) == 1
                    && count(meters, "failed", task) == 1 && count(meters, "canceled", task) == 1);
            assertEquals(3, count(meters, "added", task), "added by this process");
            assertEquals(1, count(meters, "retried", task), "the bad task's one retry");
            Timer success = meters.get("taskpool.run.duration").tags("task", task, "outcome", "success").timer();
            Timer error = meters.get("taskpool.run.duration").tags("task", task, "outcome", "error").timer();
            assertEquals(1, success.count(), "runs that returned");
            Wait.until("the canceled run was timed", LIMIT, () -> error.count() == 3);
            assertEquals(3, meters.get("taskpool.wait").tags("task", task).timer().count(), "first starts");
            assertEquals(3, meters.get("taskpool.slots.capacity").tags("task", task).gauge().value(), "worker_nums");
            Wait.until("no slot busy", LIMIT, () -> meters.get("taskpool.slots.busy").tags("task", task).gauge().value() == 0);
            assertEquals(1, meters.get("taskpool.kind.totals").tags("task", task, "counter", "canceled").gauge().value(),
                    "the stats hash, read from Redis");
            assertEquals(0, meters.get("taskpool.queue.waiting").tags("task", task).gauge().value());
            assertTrue(meters.find("lettuce.command.completion").tag("command", "EVALSHA").timer() != null,
                    "Lettuce's latencies: " + meters.getMeters().stream().map(m -> m.getId().getName()).distinct().toList());
        }
    }

    private static double count(MeterRegistry meters, String name, String task) {
        var counter = meters.find("taskpool.tasks." + name).tag("task", task).counter();
        return counter == null ? -1 : counter.count();
    }
}
