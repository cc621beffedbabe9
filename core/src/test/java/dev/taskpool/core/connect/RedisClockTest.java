package dev.taskpool.core.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.core.testing.RedisFixture;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Redis' clock as a process estimates it: the offset logic alone, then a skewed local clock against a real Redis. */
class RedisClockTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("clock");

    @Test
    void aSampleNeverPutsTheEstimateAheadOfRedis() {
        RedisClock.Offsets offsets = new RedisClock.Offsets();
        // Redis is 5,000 ms ahead; it read its clock 3 ms before the reply reached us.
        long localAtReply = 1_000_000;
        long redisMicros = (localAtReply - 3 + 5_000) * 1000 + 999;
        long offset = offsets.record(redisMicros, localAtReply, 6_000_000);
        assertEquals(5_000 - 3 - 1, offset, "the reply's delay and a millisecond of rounding are taken off, never added");
        assertTrue(offset <= 5_000);
    }

    @Test
    void theSampleWithTheShortestRoundTripOfTheLastFewIsUsed() {
        RedisClock.Offsets offsets = new RedisClock.Offsets();
        assertEquals(999, offsets.record(2_000_000, 1_000, 9_000_000), "the only sample");
        assertEquals(1_000, offsets.record(2_001_000, 1_000, 1_000_000), "a quicker one: a tighter bound");
        assertEquals(1_000, offsets.record(3_000_000, 2_000, 8_000_000), "a slow reply does not replace a quick one");
        assertEquals(1_000, offsets.record(4_000_000, 3_000, 7_000_000));
        assertEquals(999, offsets.record(5_000_000, 4_000, 5_000_000), "the quick one is past the last " + RedisClock.KEPT);
    }

    @Test
    void aLocalClockSteppedForwardDropsTheSamplesTakenBeforeTheStep() {
        RedisClock.Offsets offsets = new RedisClock.Offsets();
        assertEquals(1_000, offsets.record(2_001_000, 1_000, 1_000_000), "a quick sample");
        // The local clock jumps 5 s forward (NTP): the next sample, slower, gives an offset 5 s lower.
        // Keeping the quick sample's offset would put the estimate 5 s ahead of Redis.
        assertEquals(-4_001, offsets.record(3_000_000, 7_000, 4_000_000), "the older, quicker sample is dropped");
        assertEquals(-4_001, offsets.record(4_000_000, 8_000, 6_000_000), "and never comes back");
    }

    @Test
    void aSkewedLocalClockStillGivesDueTimesByRedisClock() {
        Clock skewed = Clock.offset(Clock.systemUTC(), Duration.ofHours(-1));
        RedisConnector redis = fixture.redis();
        try (RedisClock clock = RedisClock.start(skewed, () -> redis.async().time().toCompletableFuture(), Duration.ofSeconds(10))) {
            assertTrue(clock.sampled());
            long before = redisMillis(redis);
            long estimate = clock.millis();
            long after = redisMillis(redis);
            assertTrue(estimate <= after, "never ahead of Redis: " + estimate + " > " + after);
            assertTrue(estimate >= before - 2_000, "within the sample's delay of Redis: " + estimate + " vs " + before);
            AddStore adds = new AddStore(redis);
            String task = fixture.task();
            adds.publish(RunStoreTest.definition(task, 10, 1));
            long id = adds.addWith(task, null, "[1]", AddOptions.delay(Duration.ofSeconds(10)), clock.millis()).id();
            long due = Long.parseLong(redis.sync().hget(fixture.keys().task(id), "due_at"));
            long now = redisMillis(redis);
            assertTrue(due <= now + 10_000 && due >= now + 10_000 - 3_000,
                    "due in 10 s by Redis' clock (not an hour earlier by the local one): due " + due + ", Redis now " + now);
        }
    }

    private static long redisMillis(RedisConnector redis) {
        List<String> time = redis.sync().time();
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }
}
