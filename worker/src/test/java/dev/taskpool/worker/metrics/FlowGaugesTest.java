package dev.taskpool.worker.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The kind-wide gauges of issue 19's flow control, read from a real Redis whose flow keys are
 * written by hand as the scripts leave them: the cap, 1 while at it, the seconds until a rate limit
 * or a hold lifts (counted down by the clock the counts are read by), and the duplicates refused.
 */
class FlowGaugesTest {
    private static final long NOW = 1_700_000_000_000L;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("gauges-flow");

    /** A clock the test moves; the gauges read Redis at their first scrape, and count down by it after. */
    private final AtomicLong millis = new AtomicLong(NOW);
    private MeterRegistry meters;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void watch() {
        task = fixture.task();
        keys = fixture.keys();
        raw = fixture.raw();
        new AddStore(fixture.redis()).publish(RunStoreTest.definition(task, 100, 1));
        meters = new SimpleMeterRegistry();
        Clock moved = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(millis.get());
            }
        };
        new KindGauges(new TaskOperations(fixture.redis(), moved), meters).watch(task);
    }

    private double gauge(String name) {
        return meters.get(name).tag("task", task).gauge().value();
    }

    private void lease(long id) {
        raw.zadd(keys.leases(), NOW + 60_000, Long.toString(id));
    }

    @Test
    void aKindWithoutFlowControlHasNoCapIsNeverAtItAndNothingHoldsItBack() {
        assertEquals(0, gauge("taskpool.queue.max.running"));
        assertEquals(0, gauge("taskpool.queue.at.cap"));
        assertEquals(0, gauge("taskpool.queue.held.back.seconds"));
        assertEquals(0, meters.get("taskpool.kind.totals").tags("task", task, "counter", "duplicates").gauge().value());
    }

    @Test
    void theCapTheRateWindowAndTheDuplicatesAreGaugedAndTheWaitCountsDown() {
        raw.hset(keys.flow(), Map.of("max_running", "2", "rate_limit", "1", "rate_per", "10000"));
        raw.zadd(keys.rate(), NOW - 4000, "1:1");
        lease(1);
        lease(2);
        raw.hset(keys.stats(), "duplicates", "3");
        assertEquals(2, gauge("taskpool.queue.max.running"));
        assertEquals(1, gauge("taskpool.queue.at.cap"));
        assertEquals(6.0, gauge("taskpool.queue.held.back.seconds"), "the start 4 s ago leaves the 10 s window in 6 s");
        assertEquals(3, meters.get("taskpool.kind.totals").tags("task", task, "counter", "duplicates").gauge().value());

        millis.addAndGet(2500);   // read less than a refresh ago: the same numbers, the wait counted down
        assertEquals(3.5, gauge("taskpool.queue.held.back.seconds"), 0.001);
        millis.addAndGet(10_000);
        assertEquals(0, gauge("taskpool.queue.held.back.seconds"), "never below 0");
    }

    @Test
    void aHoldAProcessorAskedForIsGaugedUntilItLifts() throws InterruptedException {
        raw.hset(keys.flow(), Map.of("held_until", Long.toString(NOW + 90_000), "held_reason", "429"));
        assertEquals(90.0, gauge("taskpool.queue.held.back.seconds"));
        assertEquals(0, gauge("taskpool.queue.at.cap"));

        raw.hset(keys.flow(), "held_until", Long.toString(NOW - 1));
        Thread.sleep(KindGauges.REFRESH.plus(Duration.ofMillis(200)).toMillis());   // the next scrape reads Redis again
        assertEquals(0, gauge("taskpool.queue.held.back.seconds"), "lifted");
    }
}
