package dev.taskpool.worker.metrics;

import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.metrics.MicrometerCommandLatencyRecorder;
import io.lettuce.core.metrics.MicrometerOptions;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Lettuce's own Micrometer support, recording every Redis command's latency in a registry:
 * timers {@code lettuce.command.completion} and {@code lettuce.command.firstresponse}
 * ({@code lettuce_command_completion_seconds}...), tagged {@code command} (EVALSHA, BLPOP...),
 * {@code local} and {@code remote}, with a percentile histogram.
 */
public final class RedisLatencies {
    private RedisLatencies() {
    }

    public static CommandLatencyRecorder recorder(MeterRegistry registry) {
        return new MicrometerCommandLatencyRecorder(registry, MicrometerOptions.builder().histogram(true).build());
    }
}
