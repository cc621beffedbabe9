package dev.taskpool.core.connect;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Redis' clock, as this process estimates it: the local clock plus an offset sampled from Redis'
 * {@code TIME} when the connection opens and every {@link #RESAMPLE} after (in the background:
 * reading the clock never waits for Redis). Due times of delayed tasks are judged by Redis' clock,
 * so every process that passes a time to a script (a worker's fetch, a client's add) reads this
 * one: a caller whose own clock is off does not move due times.
 *
 * <p>The estimate does not run ahead of Redis' clock: a sample's offset is Redis' time minus the
 * local time when its reply arrived, less a millisecond for the rounding of both, and the reply
 * arrives after Redis read its clock. The offset used is that of the sample with the shortest
 * round trip among the last {@link #KEPT} (the tightest of these lower bounds), so one slow reply
 * does not make the estimate lag. That holds while neither clock moves against the other; when
 * one does (a stepped or drifting clock), a new sample that disagrees with older ones by more than
 * its own round trip drops them, so the estimate can be ahead by at most what a clock moved since
 * the last sample (taken every {@link #RESAMPLE}) plus one round trip. Until the first sample
 * answers (or while Redis cannot be reached at start), the local clock is used as it is.
 */
public final class RedisClock extends Clock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisClock.class);
    /** How often the offset is sampled again. */
    public static final Duration RESAMPLE = Duration.ofSeconds(10);
    /** How many recent samples the offset is chosen from. */
    static final int KEPT = 3;

    /** One sample: the offset it gave (ms, Redis minus local) and its round trip (ns). */
    record Sample(long offsetMillis, long roundTripNanos) {
    }

    /** The samples and the offset chosen from them; shared by the clock and its {@link #withZone} views. */
    static final class Offsets {
        private final ArrayDeque<Sample> recent = new ArrayDeque<>(KEPT);
        private volatile long offsetMillis;
        private volatile boolean sampled;

        /**
         * Records a reply of {@code TIME}: Redis' time in µs since the epoch, the local time (ms) when
         * the reply arrived, and the round trip (ns). Returns the offset now in use.
         */
        synchronized long record(long redisMicros, long localMillisAtReply, long roundTripNanos) {
            long offset = Math.floorDiv(redisMicros, 1000) - localMillisAtReply - 1;
            // The true offset now is at most this sample's plus its round trip (and a ms of
            // rounding). An older sample above that cannot still hold: a clock was stepped or
            // drifted since (NTP, a VM resumed), and the older samples would put the estimate
            // ahead of Redis. They go; the samples that remain agree with this one.
            long ceiling = offset + TimeUnit.NANOSECONDS.toMillis(roundTripNanos) + 2;
            recent.removeIf(older -> older.offsetMillis() > ceiling);
            if (recent.size() == KEPT) {
                recent.removeFirst();
            }
            recent.addLast(new Sample(offset, roundTripNanos));
            Sample tightest = recent.getFirst();
            for (Sample sample : recent) {
                if (sample.roundTripNanos() < tightest.roundTripNanos()) {
                    tightest = sample;
                }
            }
            offsetMillis = tightest.offsetMillis();
            sampled = true;
            return offsetMillis;
        }

        long offsetMillis() {
            return offsetMillis;
        }

        boolean sampled() {
            return sampled;
        }
    }

    private final Clock base;
    private final Offsets offsets;
    private final Supplier<CompletableFuture<List<String>>> time;
    private final ScheduledExecutorService sampler;

    private RedisClock(Clock base, Offsets offsets, Supplier<CompletableFuture<List<String>>> time,
                       ScheduledExecutorService sampler) {
        this.base = base;
        this.offsets = offsets;
        this.time = time;
        this.sampler = sampler;
    }

    /**
     * A clock over {@code base} (the local clock; tests give a skewed one) that samples Redis'
     * {@code TIME} through {@code time} now, waiting up to {@code firstWait} for the first reply,
     * and every {@link #RESAMPLE} after.
     */
    public static RedisClock start(Clock base, Supplier<CompletableFuture<List<String>>> time, Duration firstWait) {
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("taskpool-redis-clock").factory());
        RedisClock clock = new RedisClock(base, new Offsets(), time, sampler);
        try {
            clock.sample().get(firstWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("could not read Redis' clock (TIME): {}; using this machine's clock until it answers",
                    RedisConnector.rootMessage(e));
        }
        sampler.scheduleWithFixedDelay(clock::sampleQuietly, RESAMPLE.toMillis(), RESAMPLE.toMillis(), TimeUnit.MILLISECONDS);
        return clock;
    }

    private CompletableFuture<Long> sample() {
        long sent = System.nanoTime();
        return time.get().thenApply(reply -> {
            long localAtReply = base.millis();
            long roundTrip = System.nanoTime() - sent;
            long micros = Long.parseLong(reply.get(0)) * 1_000_000 + Long.parseLong(reply.get(1));
            return offsets.record(micros, localAtReply, roundTrip);
        });
    }

    private void sampleQuietly() {
        try {
            sample().whenComplete((offset, error) -> {
                if (error != null) {
                    log.debug("could not sample Redis' clock: {}", RedisConnector.rootMessage(error));
                }
            });
        } catch (RuntimeException e) {
            log.debug("could not sample Redis' clock: {}", RedisConnector.rootMessage(e));
        }
    }

    /** Redis' time minus the local clock's, ms, as last estimated (0 before the first sample). */
    public long offsetMillis() {
        return offsets.offsetMillis();
    }

    /** Whether Redis has answered a sample yet. */
    public boolean sampled() {
        return offsets.sampled();
    }

    @Override
    public long millis() {
        return base.millis() + offsets.offsetMillis();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
        return base.getZone();
    }

    /** The same estimate in another zone (no sampler of its own). */
    @Override
    public Clock withZone(ZoneId zone) {
        return zone.equals(base.getZone()) ? this : new RedisClock(base.withZone(zone), offsets, time, null);
    }

    /** Stops sampling (the connection closes). */
    @Override
    public void close() {
        if (sampler != null) {
            sampler.shutdownNow();
        }
    }

    /** A clock over the system clock in UTC. */
    static Clock systemBase() {
        return Clock.system(ZoneOffset.UTC);
    }
}
