package dev.taskpool.worker.metrics;

import dev.taskpool.core.connect.CommandLatencies;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Every Redis command's latency in a registry: the timer {@code lettuce.command.completion}
 * ({@code lettuce_command_completion_seconds}, the name Lettuce's own Micrometer support gives it,
 * which dashboards and alerts already use), tagged {@code command} (EVALSHA, BLPOP...) and
 * {@code remote} (the Redis server), with the buckets of {@link #BUCKETS} (enough for
 * {@code histogram_quantile} by command).
 *
 * <p>No client-side percentiles and no series per connection: Lettuce's defaults (about 70 buckets
 * and 5 percentiles per command, for two timers, a series per local port) came to half a megabyte
 * at every scrape.
 */
public final class RedisLatencies implements CommandLatencies {
    /** The upper bounds of the latency buckets: from a fast local Redis to a command timing out. */
    static final Duration[] BUCKETS = {
            Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100),
            Duration.ofSeconds(1), Duration.ofSeconds(10)};
    static final String TIMER = "lettuce.command.completion";
    private static final String DESCRIPTION = "From sending a Redis command to receiving its complete reply";

    private final MeterRegistry registry;
    /** The timer of each command and server ("EVALSHA /10.0.0.7:6379"): looked up on every command. */
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    private RedisLatencies(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The latencies a {@code RedisConnector} hands every command's to, recorded in {@code registry}. */
    public static CommandLatencies recorder(MeterRegistry registry) {
        return new RedisLatencies(registry);
    }

    @Override
    public void completed(String command, String remote, long nanos) {
        timers.computeIfAbsent(command + ' ' + remote, ignored -> Timer.builder(TIMER).description(DESCRIPTION)
                        .tag("command", command).tag("remote", remote)
                        .serviceLevelObjectives(BUCKETS)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}
