package dev.taskpool.bench;

import dev.taskpool.cli.Options;
import dev.taskpool.core.json.Json;
import java.io.IOException;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code taskpool bench-delay}: due -> start lag of delayed tasks (idle and busy worker) and a flood falling due at once. */
@Command(name = "bench-delay", mixinStandardHelpOptions = true,
        description = {"Add delayed tasks due at random times over a window and report how late they start (by Redis'"
                + " clock) on an idle worker and on a busy one; with --flood N, add N tasks due at one instant and report"
                + " how long they take to reach the queue and to start, and the longest script call Redis ran meanwhile"
                + " (its slow log; standalone Redis only)."})
final class DelayBenchCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1000", description = "timed tasks per phase (default ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--spread", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "10s",
            description = "the window their due times are spread over (default ${DEFAULT-VALUE})")
    Duration spread;

    @Option(names = "--busy-rate", paramLabel = "N", defaultValue = "400",
            description = "ready tasks per second (each holding its slot 20 ms) during the busy phase (default ${DEFAULT-VALUE})")
    int busyRate;

    @Option(names = "--slots", paramLabel = "N", defaultValue = "32", description = "the worker's worker_nums (default ${DEFAULT-VALUE})")
    int slots;

    @Option(names = "--flood", paramLabel = "N", defaultValue = "0", description = "tasks due at one instant (default ${DEFAULT-VALUE}: none)")
    int flood;

    @Option(names = "--flood-lead", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "120s",
            description = "how far ahead the flood is due: longer than adding it takes (default ${DEFAULT-VALUE})")
    Duration floodLead;

    @Override
    public void run() {
        if (samples < 1 || slots < 1 || busyRate < 1 || flood < 0) {
            throw new IllegalArgumentException("--samples, --slots and --busy-rate must be at least 1, --flood at least 0");
        }
        try {
            var result = new DelayBench(new DelayBench.Options(redis.redis, samples, spread, busyRate, flood, floodLead, slots),
                    redis.tls.settings()).run();
            System.out.println(Json.write(result));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the benchmark app: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
