package dev.taskpool.bench;

import dev.taskpool.cli.Options;
import dev.taskpool.core.json.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code taskpool bench-flow}: the commands Redis receives from the workers of a kind its flow controls hold back. */
@Command(name = "bench-flow", mixinStandardHelpOptions = true,
        description = {"For each case of --waits, serve a fresh kind with --workers worker instances (each with its"
                + " own connections), queue --tasks tasks, wait until the kind is held back, then count over --window what"
                + " Redis executes (INFO commandstats, inside scripts included, less this command's INFO calls) and the"
                + " CPU it spends: idle (nothing queued: the floor), rate (a rate of L starts per S seconds, after the"
                + " first window's starts), cap (max_running reached by runs that last longer than the window), held"
                + " (every run throws RateLimited). Prints one JSON line per case. Nothing else may use the Redis meanwhile."})
final class FlowBenchCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;

    @Option(names = "--waits", paramLabel = "idle,rate,cap,held", defaultValue = "idle,rate,cap,held",
            description = "the cases, comma-separated, measured in this order (default ${DEFAULT-VALUE})")
    String waits;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "3", description = "worker instances (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--slots", paramLabel = "N", defaultValue = "50", description = "each worker's worker_nums (default ${DEFAULT-VALUE})")
    int slots;

    @Option(names = "--tasks", paramLabel = "N", defaultValue = "1000", description = "tasks queued (default ${DEFAULT-VALUE})")
    int tasks;

    @Option(names = "--rate", paramLabel = "L/S", defaultValue = "5/10",
            description = "the rate case's rate: L starts per S seconds (default ${DEFAULT-VALUE})")
    String rate;

    @Option(names = "--max-running", paramLabel = "N", defaultValue = "10", description = "the cap case's max_running (default ${DEFAULT-VALUE})")
    int maxRunning;

    @Option(names = "--hold", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "60s",
            description = "the wait each RateLimited asks for in the held case: longer than the window (default ${DEFAULT-VALUE})")
    Duration hold;

    @Option(names = "--window", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "20s",
            description = "how long the commands are counted (default ${DEFAULT-VALUE})")
    Duration window;

    @Override
    public void run() {
        List<FlowBench.Wait> cases = new ArrayList<>();
        for (String wait : waits.split(",", -1)) {
            try {
                cases.add(FlowBench.Wait.valueOf(wait.trim().toUpperCase()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--waits takes idle, rate, cap and held, got '" + wait + "'");
            }
        }
        BenchFlow flow = BenchFlow.parse(maxRunning, rate, null, 0);
        if (workers < 1 || slots < 1 || tasks < 1 || window.toSeconds() < 1) {
            throw new IllegalArgumentException("--workers, --slots and --tasks must be at least 1, --window at least 1s");
        }
        if (maxRunning < 1 || maxRunning >= tasks) {
            throw new IllegalArgumentException("--max-running must be at least 1 and below --tasks, so that tasks wait for the cap");
        }
        if (flow.rateLimit() >= tasks || hold.compareTo(window.plusSeconds(5)) < 0) {
            throw new IllegalArgumentException("the rate's limit must be below --tasks, and --hold longer than --window by 5 s or more,"
                    + " so that the kind waits through the window");
        }
        try {
            new FlowBench(new FlowBench.Options(redis.redis, cases, workers, slots, tasks, flow.rateLimit(), flow.ratePer(),
                    maxRunning, hold, window), redis.tls.settings()).run(result -> System.out.println(Json.write(result)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the benchmark app: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
