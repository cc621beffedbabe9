package dev.taskpool.worker.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.testing.RedisFixture;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A partitioned kind's gauges are the kind's: one series per kind, its numbers summed over its partitions. */
class PartitionedGaugesTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("gauges-parts");

    @Test
    void theGaugesSumEveryPartition() {
        String task = fixture.task();
        new AddStore(fixture.redis()).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                Duration.ofSeconds(5), 100, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60), Backoff.FIXED,
                new FlowControl(6, 0, Duration.ZERO, false, Duration.ZERO), 3));
        AddStore adds = new AddStore(fixture.redis());
        for (int i = 0; i < 5; i++) {
            adds.add(task, null, "[" + i + "]", System.currentTimeMillis());
        }
        KindLayout layout = KindLayout.fromDefinition(task, fixture.raw().hgetall(Keys.of(task).definition()));
        // one task running in partition 2 (a lease, as a fetch leaves it)
        fixture.raw().zadd(layout.partition(2).leases(), System.currentTimeMillis() + 60_000, "1");
        MeterRegistry meters = new SimpleMeterRegistry();
        new KindGauges(new TaskOperations(fixture.redis()), meters).watch(task);
        assertEquals(5, meters.get("taskpool.queue.waiting").tag("task", task).gauge().value());
        assertEquals(1, meters.get("taskpool.queue.running").tag("task", task).gauge().value());
        assertEquals(6, meters.get("taskpool.queue.max.running").tag("task", task).gauge().value(), "the partitions' caps, summed");
        assertEquals(0, meters.get("taskpool.queue.at.cap").tag("task", task).gauge().value());
        assertEquals(5, meters.get("taskpool.kind.totals").tags("task", task, "counter", "added").gauge().value());
        assertEquals(1, meters.find("taskpool.queue.waiting").gauges().stream()
                .filter(gauge -> gauge.getId().getTag("task").startsWith(task)).count(), "one series for the kind");
    }
}
