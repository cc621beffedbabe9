package dev.taskpool.bench;

import dev.taskpool.cli.Options;
import dev.taskpool.core.json.Json;
import java.io.IOException;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code taskpool bench-schedule}: every-second schedules fired by several worker processes over a window. */
@Command(name = "bench-schedule", mixinStandardHelpOptions = true,
        description = {"Start N `taskpool worker` processes on an app with S schedules that each fire every second,"
                + " then count over the window: tasks per fire time (duplicates), fire times without a task, firings"
                + " per second, and fire time -> task added (p50, p99, max)."})
final class ScheduleBenchCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;

    @Option(names = "--schedules", paramLabel = "S", defaultValue = "1", description = "every-second schedules (default ${DEFAULT-VALUE})")
    int schedules;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "3", description = "worker processes (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--window", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "60s",
            description = "how long the firings are counted (default ${DEFAULT-VALUE})")
    Duration window;

    @Override
    public void run() {
        if (schedules < 1 || workers < 1 || window.toSeconds() < 1) {
            throw new IllegalArgumentException("--schedules and --workers must be at least 1, --window at least 1s");
        }
        try {
            System.out.println(Json.write(new ScheduleBench(new ScheduleBench.Options(redis.redis, schedules, workers, window),
                    redis.tls.settings()).run()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the benchmark app: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
