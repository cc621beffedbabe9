package dev.taskpool.bench;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.connect.SlowLog;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * How late delayed tasks start, and how a flood of them falling due at once drains.
 * <ul>
 * <li><b>Lag</b>: tasks added with a due time ({@code at}) spread over a window start on one worker;
 *     each processor notes when it began by Redis' clock (the worker's {@code RedisClock}), and the
 *     lag is that minus the due time asked for. Measured on an idle worker (nothing else happens, so
 *     only the due time can wake it) and on a busy one (a steady stream of ready tasks of the same
 *     kind keeps part of its slots running).</li>
 * <li><b>Flood</b>: N tasks all due at the same instant; from that instant, how long until none is
 *     left in the delayed set and until all have run, and the longest script call Redis ran meanwhile
 *     (its slow log: the time inside the command, which blocks every other client).</li>
 * </ul>
 */
final class DelayBench {
    static final String PROCESS = "bench.delay.Run";

    record Options(String redisUri, int samples, Duration spread, int busyRate, int flood, Duration floodLead, int slots) {
    }

    private final Options options;
    private final RedisTls tls;
    /** Task id -> when its processor started, by the worker's clock of Redis' time (epoch ms). */
    private final Map<Long, Long> started = new ConcurrentHashMap<>();
    private volatile RedisConnector workerRedis;

    DelayBench(Options options, RedisTls tls) {
        this.options = options;
        this.tls = tls;
    }

    Map<String, Object> run() throws IOException, InterruptedException {
        String task = "bench.d" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        Path app = writeApp(task);
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> {
            // (a processor gets the task id, then the task's args: [index, kind of task])
            // "load" tasks hold their slot a little, as real work does; the others note their start.
            if ("load".equals(args.get(2))) {
                LockSupport.parkNanos(20_000_000L);
            } else {
                started.put(((Number) args.get(1)).longValue(), workerRedis.clock().millis());
            }
            return null;
        });
        Map<String, Object> result = new LinkedHashMap<>();
        try (RedisConnector redis = connect(); RedisConnector forWorker = connect()) {
            workerRedis = forWorker;
            AddStore store = new AddStore(redis);
            TaskOperations operations = new TaskOperations(redis);
            try (AppRuntime runtime = AppRuntime.open(app, new AddStore(forWorker), registry, forWorker.clock());
                 Worker worker = new Worker(runtime, WorkerSettings.defaults()
                         .withWorkerId("bench-delay-" + ProcessHandle.current().pid()), List.of(task)).start()) {
                store.publish(runtime.definition(task).orElseThrow());
                // Warm-up: the same path, untimed.
                lag(store, redis, task, Math.min(200, options.samples()), false);
                result.put("idle", lag(store, redis, task, options.samples(), false));
                result.put("busy", lag(store, redis, task, options.samples(), true));
                if (options.flood() > 0) {
                    result.put("flood", flood(store, redis, operations, task));
                }
            } finally {
                operations.erase(task);
            }
        }
        return result;
    }

    private RedisConnector connect() {
        return RedisConnector.connect(options.redisUri(), RedisConnector.DEFAULT_COMMAND_TIMEOUT, tls);
    }

    /** {@code samples} tasks due at random times over the window; their start lags, in ms. */
    private Map<String, Object> lag(AddStore store, RedisConnector redis, String task, int samples, boolean busy)
            throws InterruptedException {
        started.clear();
        AtomicBoolean loading = new AtomicBoolean(busy);
        Thread load = Thread.ofPlatform().name("bench-load").start(() -> addLoad(store, redis, task, loading));
        long lead = 1000;
        long base = redis.clock().millis() + lead;
        List<Long> dueTimes = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            long at = base + ThreadLocalRandom.current().nextLong(Math.max(1, options.spread().toMillis()));
            store.addWith(task, null, "[" + i + ",\"timed\"]", AddOptions.at(Instant.ofEpochMilli(at)), redis.clock().millis());
            dueTimes.add(at);
        }
        long deadline = System.nanoTime() + options.spread().toNanos() + Duration.ofSeconds(60).toNanos();
        while (started.size() < samples) {
            if (System.nanoTime() > deadline) {
                loading.set(false);
                throw new TaskpoolException("only " + started.size() + " of " + samples + " delayed tasks started within 60 s of the window");
            }
            Thread.sleep(50);
        }
        loading.set(false);
        load.join();
        double[] lags = new double[samples];
        int early = 0;
        for (int i = 0; i < samples; i++) {
            lags[i] = started.get((long) i) - dueTimes.get(i);
            if (lags[i] < 0) {
                early++;
            }
        }
        Arrays.sort(lags);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", samples);
        out.put("p50_ms", LatencyProbe.percentile(lags, 50));
        out.put("p99_ms", LatencyProbe.percentile(lags, 99));
        out.put("max_ms", lags[lags.length - 1]);
        out.put("min_ms", lags[0]);
        out.put("early", early);
        if (busy) {
            out.put("load_per_s", options.busyRate());
        }
        return out;
    }

    /** Ready "load" tasks at a steady rate while {@code loading}. */
    private void addLoad(AddStore store, RedisConnector redis, String task, AtomicBoolean loading) {
        long interval = 1_000_000_000L / Math.max(1, options.busyRate());
        long next = System.nanoTime();
        int i = 0;
        while (loading.get()) {
            store.add(task, null, "[" + (-1 - i++) + ",\"load\"]", redis.clock().millis());
            next += interval;
            LockSupport.parkNanos(next - System.nanoTime());
        }
    }

    private Map<String, Object> flood(AddStore store, RedisConnector redis, TaskOperations operations, String task)
            throws InterruptedException {
        started.clear();
        long dueAt = redis.clock().millis() + options.floodLead().toMillis();
        AddOptions at = AddOptions.at(Instant.ofEpochMilli(dueAt));
        long addStart = System.nanoTime();
        for (int from = 0; from < options.flood(); from += BenchAdds.BATCH) {
            List<NewTask> batch = new ArrayList<>(BenchAdds.BATCH);
            for (int i = from; i < Math.min(options.flood(), from + BenchAdds.BATCH); i++) {
                batch.add(new NewTask(null, "[" + i + ",\"flood\"]"));
            }
            store.addAll(task, batch, at, redis.clock().millis());
        }
        double addSeconds = (System.nanoTime() - addStart) / 1e9;
        if (redis.clock().millis() >= dueAt) {
            throw new TaskpoolException("adding " + options.flood() + " tasks took " + addSeconds
                    + " s, past their due time: give a longer --flood-lead");
        }
        SlowLog slowLog = SlowLog.start(redis, 1000, 100_000);
        try {
            while (redis.clock().millis() < dueAt) {
                Thread.sleep(5);
            }
            long t0 = System.nanoTime();
            double movedSeconds = -1;
            long deadline = t0 + Duration.ofMinutes(30).toNanos();
            while (true) {
                if (movedSeconds < 0 && operations.stats(task).delayed() == 0) {
                    movedSeconds = (System.nanoTime() - t0) / 1e9;
                }
                if (movedSeconds >= 0 && started.size() >= options.flood()) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new TaskpoolException("the flood did not drain within 30 minutes");
                }
                Thread.sleep(20);
            }
            double ranSeconds = (System.nanoTime() - t0) / 1e9;
            List<SlowLog.Entry> slow = slowLog.entries();
            SlowLog.Entry longest = slow.stream().max((a, b) -> Long.compare(a.micros(), b.micros())).orElse(null);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("tasks", options.flood());
            out.put("add_s", addSeconds);
            out.put("all_moved_to_queue_s", movedSeconds);
            out.put("all_started_s", ranSeconds);
            out.put("started_per_s", options.flood() / ranSeconds);
            out.put("calls_over_1ms", slow.size());
            out.put("longest_call_us", longest == null ? 0 : longest.micros());
            out.put("longest_call", longest == null ? "" : describe(longest));
            return out;
        } finally {
            slowLog.restore();
        }
    }

    /** The command and its keys, without the long argument lists. */
    private static String describe(SlowLog.Entry entry) {
        return String.join(" ", entry.words().subList(0, Math.min(4, entry.words().size())));
    }

    private Path writeApp(String task) throws IOException {
        Path app = Files.createTempDirectory("taskpool-bench-delay-");
        app.toFile().deleteOnExit();
        Path definition = app.resolve("tasks/" + task.replace('.', '/') + ".yao");
        Files.createDirectories(definition.getParent());
        Files.writeString(definition, Json.write(Map.of("name", "delay benchmark", "worker_nums", options.slots(),
                "attempts", 0, "attempt_after", 0, "timeout", 60, "size", options.flood() + 10 * options.samples() + 1_000_000,
                "keep", 600, "process", PROCESS)));
        return app;
    }
}
