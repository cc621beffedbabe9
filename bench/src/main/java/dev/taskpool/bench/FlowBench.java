package dev.taskpool.bench;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.worker.RateLimited;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * What the workers of a kind send Redis while its flow controls hold it back: they must wait, not
 * spin. For each case a fresh kind with {@code --tasks} ready tasks is served by {@code --workers}
 * worker instances in this JVM (each with its own connections, as separate processes would have);
 * once the kind is held back, Redis' counters (INFO commandstats and cpu) are read at the start of a
 * window, every second through it, and at its end. The cases:
 * <ul>
 * <li><b>idle</b>: the same workers with nothing queued, the floor every other case is compared with;</li>
 * <li><b>rate</b>: {@code rate: {limit: L, per: S}}, measured once the first window's L tasks started;</li>
 * <li><b>cap</b>: {@code max_running: M}, whose runs last longer than the window (the workers have free
 *     slots and tasks are ready, but the cap is reached);</li>
 * <li><b>held</b>: every run throws {@link RateLimited} (the kind is held for {@code --hold}).</li>
 * </ul>
 * Commands counted are every command Redis executed (those inside scripts included), less the
 * benchmark's own INFO calls; nothing else may use the Redis meanwhile.
 */
final class FlowBench {
    static final String PROCESS = "bench.flow.Run";

    /** What holds the kind back while the window is measured. */
    enum Wait { IDLE, RATE, CAP, HELD }

    record Options(String redisUri, List<Wait> waits, int workers, int slots, int tasks, int rateLimit, BigDecimal ratePer,
                   int maxRunning, Duration hold, Duration window) {
    }

    private final Options options;
    private final RedisTls tls;
    /** What the processor does in the case being measured. */
    private volatile Wait current = Wait.IDLE;
    /** Runs begun in the current case, and runs in progress. */
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();

    FlowBench(Options options, RedisTls tls) {
        this.options = options;
        this.tls = tls;
    }

    /** Measures each case in turn, handing each result to {@code each} as it is known. */
    void run(Consumer<Map<String, Object>> each) throws IOException, InterruptedException {
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> {
            started.incrementAndGet();
            running.incrementAndGet();
            try {
                switch (current) {
                    case CAP -> sleep(options.window().plusMinutes(2));   // longer than the window: the cap stays reached
                    case HELD -> throw new RateLimited(options.hold(), "bench: the service says wait");
                    default -> { }
                }
                return null;
            } finally {
                running.decrementAndGet();
            }
        });
        try (RedisConnector redis = connect()) {
            for (Wait wait : options.waits()) {
                each.accept(measure(redis, registry, wait));
            }
        }
    }

    private Map<String, Object> measure(RedisConnector redis, ProcessRegistry registry, Wait wait)
            throws IOException, InterruptedException {
        String task = "bench.f" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        Path app = writeApp(task, wait);
        current = wait;
        started.set(0);
        List<AutoCloseable> open = new ArrayList<>();
        TaskOperations operations = new TaskOperations(redis);
        try {
            for (int i = 0; i < options.workers(); i++) {
                RedisConnector workerRedis = connect();
                open.add(workerRedis);
                AppRuntime runtime = AppRuntime.open(app, new AddStore(workerRedis), registry, workerRedis.clock());
                open.add(runtime);
                open.add(new Worker(runtime, WorkerSettings.defaults().withShutdownGrace(Duration.ZERO)
                        .withWorkerId("bench-flow-" + i + "-" + ProcessHandle.current().pid()), List.of(task)).start());
            }
            if (wait != Wait.IDLE) {
                BenchAdds.bulk(new AddStore(redis), task, options.tasks(), BenchFlow.NONE);
            }
            // Held back: the first window's starts made (rate), the cap reached, the kind held.
            switch (wait) {
                case RATE -> await("the first " + options.rateLimit() + " starts", () -> started.get() >= options.rateLimit());
                case CAP -> await(options.maxRunning() + " runs at once", () -> running.get() >= options.maxRunning());
                // (a RateLimited run's retry is what writes the hold)
                case HELD -> await("a hold", () -> new TaskReads(redis).stats(task).getOrDefault("retried", 0L) > 0);
                default -> { }
            }
            // The runs taken before the kind was held back end, and the workers settle.
            Thread.sleep(2000);
            return window(redis, wait);
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) {
                try {
                    open.get(i).close();
                } catch (Exception ignored) {
                    // best effort: the case is measured
                }
            }
            operations.erase(task);
        }
    }

    /** Counts what Redis executed over the window, and each second of it. */
    private Map<String, Object> window(RedisConnector redis, Wait wait)
            throws InterruptedException {
        int startedBefore = started.get();
        RedisCounters first = RedisCounters.read(redis);
        long t0 = System.nanoTime();
        RedisCounters previous = first;
        long busiest = 0;
        long seconds = Math.max(1, options.window().toSeconds());
        for (long s = 1; s <= seconds; s++) {
            long next = t0 + s * 1_000_000_000L;
            Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
            RedisCounters now = RedisCounters.read(redis);
            busiest = Math.max(busiest, now.commandsSince(previous) - now.callsSince(previous, "info"));
            previous = now;
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        RedisCounters last = previous;
        long scriptCalls = last.callsSince(first, "evalsha") + last.callsSince(first, "eval");
        long commands = last.commandsSince(first) - last.callsSince(first, "info");
        Map<String, Long> byCommand = new LinkedHashMap<>();
        last.byNode().forEach((node, counters) -> counters.commandCalls().forEach((name, calls) -> {
            long delta = calls - first.node(node).commandCalls().getOrDefault(name, 0L);
            if (delta > 0 && !name.equals("info")) {
                byCommand.merge(name, delta, Long::sum);
            }
        }));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("wait", wait.name().toLowerCase());
        out.put("kind", describe(wait));
        out.put("workers", options.workers());
        out.put("slots_per_worker", options.slots());
        out.put("window_s", Math.round(elapsed * 10) / 10.0);
        out.put("starts_in_window", started.get() - startedBefore);
        out.put("commands_per_s", round(commands / elapsed));
        out.put("busiest_second_commands", busiest);
        out.put("script_calls_per_s", round(scriptCalls / elapsed));
        out.put("blpop_per_s", round(last.callsSince(first, "blpop") / elapsed));
        out.put("redis_cpu_ms_per_s", round(last.cpuMicrosSince(first) / 1000.0 / elapsed));
        Map<String, Object> perCommand = new LinkedHashMap<>();
        byCommand.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                .forEach(entry -> perCommand.put(entry.getKey(), round(entry.getValue() / elapsed)));
        out.put("per_command_per_s", perCommand);
        return out;
    }

    private String describe(Wait wait) {
        return switch (wait) {
            case IDLE -> "nothing queued";
            case RATE -> options.tasks() + " queued, rate " + options.rateLimit() + "/" + options.ratePer().toPlainString() + "s";
            case CAP -> options.tasks() + " queued, max_running " + options.maxRunning() + ", runs longer than the window";
            case HELD -> options.tasks() + " queued, every run throws RateLimited(" + options.hold().toSeconds() + " s)";
        };
    }

    private static void await(String what, BooleanSupplier reached) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!reached.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TaskpoolException("the flow benchmark did not see " + what + " within 60 s");
            }
            Thread.sleep(20);
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the worker stops the run: the case is over
        }
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    private RedisConnector connect() {
        return RedisConnector.connect(options.redisUri(), RedisConnector.DEFAULT_COMMAND_TIMEOUT, tls);
    }

    private Path writeApp(String task, Wait wait) throws IOException {
        Path app = Files.createTempDirectory("taskpool-bench-flow-");
        app.toFile().deleteOnExit();
        Path definition = app.resolve("tasks/" + task.replace('.', '/') + ".yao");
        Files.createDirectories(definition.getParent());
        Map<String, Object> fields = new LinkedHashMap<>(Map.of("name", "flow benchmark", "worker_nums", options.slots(),
                "attempts", 3, "attempt_after", 0, "timeout", options.window().plusMinutes(5).toSeconds(),
                "size", options.tasks() + 10, "keep", 600, "process", PROCESS));
        switch (wait) {
            case RATE -> fields.put("rate", Map.of("limit", options.rateLimit(), "per", options.ratePer()));
            case CAP -> fields.put("max_running", options.maxRunning());
            default -> { }
        }
        Files.writeString(definition, Json.write(fields));
        return app;
    }
}
