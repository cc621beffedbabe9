package dev.taskpool.worker.metrics;

import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.metrics.MicrometerCommandLatencyRecorder;
import io.lettuce.core.metrics.MicrometerOptions;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import java.time.Duration;

/**
 * Lettuce's own Micrometer support, recording every Redis command's latency in a registry: the
 * timer {@code lettuce.command.completion} ({@code lettuce_command_completion_seconds}), tagged
 * {@code command} (EVALSHA, BLPOP...) and {@code remote} (the Redis server), with the buckets of
 * {@link #BUCKETS} (enough for {@code histogram_quantile} by command).
 *
 * <p>Lettuce's defaults would serve about 70 buckets and 5 client-side percentiles per command, for
 * two timers, and a series per connection ({@code local}): half a megabyte at every scrape. So the
 * registry is given a filter that drops {@code lettuce.command.firstresponse} (for these commands
 * within a hair of completion), the {@code local} tag and the percentiles, and sets the buckets.
 */
public final class RedisLatencies {
    /** The upper bounds of the latency buckets: from a fast local Redis to a command timing out. */
    static final Duration[] BUCKETS = {
            Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100),
            Duration.ofSeconds(1), Duration.ofSeconds(10)};
    private static final String PREFIX = "lettuce.command.";

    private RedisLatencies() {
    }

    public static CommandLatencyRecorder recorder(MeterRegistry registry) {
        registry.config().meterFilter(MeterFilter.denyNameStartsWith(PREFIX + "firstresponse"))
                .meterFilter(MeterFilter.ignoreTags("local"))
                .meterFilter(new MeterFilter() {
                    @Override
                    public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                        if (!id.getName().startsWith(PREFIX)) {
                            return config;
                        }
                        return DistributionStatisticConfig.builder().percentilesHistogram(false).percentiles()
                                .serviceLevelObjectives(nanos(BUCKETS)).build().merge(config);
                    }
                });
        return new MicrometerCommandLatencyRecorder(registry,
                MicrometerOptions.builder().histogram(false).localDistinction(false).build());
    }

    /** Bucket bounds as a timer's service-level objectives take them: nanoseconds. */
    static double[] nanos(Duration[] bounds) {
        double[] nanos = new double[bounds.length];
        for (int i = 0; i < bounds.length; i++) {
            nanos[i] = bounds[i].toNanos();
        }
        return nanos;
    }
}
