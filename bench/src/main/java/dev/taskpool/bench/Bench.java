package dev.taskpool.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.run.PresenceStore;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One honest benchmark run: N no-op tasks really go through Redis and workers. They are
 * enqueued first (batch adds of 1,000), then drained; Redis' own counters give the commands per
 * task and the memory per finished task kept, and every task is checked to have ended in SUCCESS.
 */
public final class Bench {
    /** How the drained tasks are run. */
    public enum Processor { JAVA, JS }

    /**
     * How the N tasks are enqueued: in batch adds of 1,000 ({@code AddStore.addAll}, one script
     * call per batch), or one task per {@code TaskpoolClient.add} call with a number of calls in
     * flight at once (what a web application adding one task per request does), or one task per
     * {@code TaskpoolClient.addAsync} call, one thread keeping that many in flight (as one Node.js
     * process does with promises).
     */
    public enum Adds { BULK, SINGLE, VIRTUAL, ASYNC }

    /**
     * @param workers         worker instances in this JVM, each with its own connections and script engine
     * @param workerProcesses when above 0, worker processes ({@code taskpool worker}) instead, started
     *                        before the enqueue (JS processor only; the process rate is then taken from
     *                        the task records: first start to last finish)
     */
    public record Options(String redisUri, int tasks, int concurrency, Processor processor, int workers,
                          int latencySamples, Duration keep, boolean keepData, int warmup, int workerProcesses, int kinds,
                          Adds adds, int inFlight, BenchFlow flow) {
        /** Plain kinds, as before the flow controls. */
        public Options(String redisUri, int tasks, int concurrency, Processor processor, int workers,
                       int latencySamples, Duration keep, boolean keepData, int warmup, int workerProcesses, int kinds,
                       Adds adds, int inFlight) {
            this(redisUri, tasks, concurrency, processor, workers, latencySamples, keep, keepData, warmup, workerProcesses, kinds,
                    adds, inFlight, BenchFlow.NONE);
        }

        /** Bulk adds, as before {@code --adds}. */
        public Options(String redisUri, int tasks, int concurrency, Processor processor, int workers,
                       int latencySamples, Duration keep, boolean keepData, int warmup, int workerProcesses, int kinds) {
            this(redisUri, tasks, concurrency, processor, workers, latencySamples, keep, keepData, warmup, workerProcesses, kinds,
                    Adds.BULK, 1);
        }

        /** One task kind, as before {@code --kinds}. */
        public Options(String redisUri, int tasks, int concurrency, Processor processor, int workers,
                       int latencySamples, Duration keep, boolean keepData, int warmup, int workerProcesses) {
            this(redisUri, tasks, concurrency, processor, workers, latencySamples, keep, keepData, warmup, workerProcesses, 1);
        }

        public Options {
            if (kinds < 1 || kinds > tasks || kinds > concurrency) {
                throw new IllegalArgumentException("--kinds must be at least 1 and at most --tasks (" + tasks
                        + ") and --concurrency (" + concurrency + "), each kind getting a share of both; got " + kinds);
            }
            if (inFlight < 1) {
                throw new IllegalArgumentException("--in-flight must be at least 1 (one caller adding in a loop), got " + inFlight);
            }
            if (flow.unique() == BenchFlow.Unique.KEY && adds == Adds.BULK) {
                throw new IllegalArgumentException("--unique key gives every add a key of its own, and a key names one task:"
                        + " use --adds single, virtual or async");
            }
        }
    }

    private final Options options;
    private final RedisTls tls;
    private final LatencyProbe probe = new LatencyProbe();
    private final BenchReads benchReads = new BenchReads();

    public Bench(Options options) {
        this(options, RedisTls.fromEnvironment());
    }

    public Bench(Options options, RedisTls tls) {
        this.options = options;
        this.tls = tls;
    }

    private RedisConnector connect() {
        return RedisConnector.connect(options.redisUri(), RedisConnector.DEFAULT_COMMAND_TIMEOUT, tls);
    }

    public BenchResult run() throws IOException, InterruptedException {
        String prefix = "bench.t" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        ProcessRegistry registry = new ProcessRegistry()
                .register(BenchApp.JAVA_PROCESS, args -> args.size() > 1 ? args.get(1) : null)
                .register(LatencyProbe.STARTED, probe::started);
        List<AutoCloseable> open = new ArrayList<>();
        try (RedisConnector connector = connect()) {
            List<String> kinds = BenchKinds.choose(prefix, options.kinds(), connector.masters(),
                    kind -> connector.masterOf(Keys.of(kind).waiting()));
            List<Integer> tasksPerKind = BenchKinds.split(options.tasks(), kinds.size());
            List<Integer> concurrencyPerKind = BenchKinds.split(options.concurrency(), kinds.size());
            // The first kind is the one of a single-kind run: warm-up and latency tasks are named after it.
            String task = kinds.getFirst();
            Path app = BenchApp.write(options, kinds, tasksPerKind, concurrencyPerKind);
            AddStore store = new AddStore(connector);
            TaskReads reads = new TaskReads(connector);
            AppRuntime runtime = AppRuntime.open(app, store, registry, connector.clock());
            open.add(runtime);
            TaskOperations operations = new TaskOperations(connector);

            List<Worker> workers = new ArrayList<>();
            List<AppRuntime> workerRuntimes = new ArrayList<>();
            if (options.warmup() > 0) {
                // Warm the JVM up on the same path (enqueue, workers, scripts), then start afresh.
                warmUp(app, registry, store, task);
            }

            List<Process> processes = new ArrayList<>();
            for (int i = 0; i < options.workerProcesses(); i++) {
                processes.add(WorkerProcess.start(app, "bench-process-" + i, String.join(",", kinds), options.redisUri(), tls));
            }
            awaitPresence(new PresenceStore(connector), options.workerProcesses());

            TaskpoolClient client = null;
            if (options.adds() != Adds.BULK) {
                // A client of its own, as a web application has: the adds do not share the store's connection.
                client = TaskpoolClient.connect(options.redisUri(), tls);
                open.add(client);
            }
            RedisCounters before = RedisCounters.read(connector);
            long scriptCallsBefore = store.scriptCalls();
            double enqueueSeconds = 0;
            var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long jvmCpuBefore = os.getProcessCpuTime();
            for (int k = 0; k < kinds.size(); k++) {
                enqueueSeconds += client == null ? BenchAdds.bulk(store, kinds.get(k), tasksPerKind.get(k), options.flow())
                        : BenchAdds.oneByOne(client, kinds.get(k), tasksPerKind.get(k), options.adds(), options.inFlight(),
                                options.flow());
            }
            // The enqueue phase alone: what adding costs Redis, apart from running the tasks.
            // This JVM's CPU while it only enqueues (no worker runs yet): the client side of an add, JIT and GC included.
            long jvmCpuNanos = os.getProcessCpuTime() - jvmCpuBefore;
            RedisCounters afterEnqueue = RedisCounters.read(connector);
            long enqueueCpuMicros = afterEnqueue.cpuMicrosSince(before);
            long enqueueCommands = afterEnqueue.commandsSince(before) - afterEnqueue.callsSince(before, "info");

            long drainStart = System.nanoTime();
            // The worker's start-up counts as part of the drain, as BullMQ's includes its Worker's construction.
            long drainStartMillis = System.currentTimeMillis();
            long drainCpuBefore = os.getProcessCpuTime();
            for (int i = 0; i < (options.workerProcesses() > 0 ? 0 : options.workers()); i++) {
                // Each worker has its own connections and script engine, as a separate process would.
                RedisConnector workerRedis = connect();
                open.add(workerRedis);
                AddStore workerStore = new AddStore(workerRedis);
                AppRuntime workerRuntime = AppRuntime.open(app, workerStore, registry, workerRedis.clock());
                open.add(workerRuntime);
                workers.add(new Worker(workerRuntime, settings("bench-" + i), List.of()).start());
                workerRuntimes.add(workerRuntime);
            }
            long polls = benchReads.awaitSucceeded(connector, kinds, tasksPerKind, drainStart);
            // This JVM's CPU from the worker's start to the last success: on two cores Redis's CPU and
            // the worker's per task bound the throughput. Meaningless when other processes do the work.
            double workerCpuMicrosPerTask = options.workerProcesses() > 0 ? Double.NaN
                    : (os.getProcessCpuTime() - drainCpuBefore) / 1000.0 / options.tasks();
            RedisCounters after = RedisCounters.read(connector);
            long scriptCalls = store.scriptCalls() - scriptCallsBefore
                    + workerRuntimes.stream().mapToLong(AppRuntime::scriptCalls).sum();
            long[] drain = benchReads.drainSpan(connector, operations, kinds, tasksPerKind, options.flow().priority() == 0);
            double processSeconds = Math.max(1, drain[1] - drain[0]) / 1000.0;
            double fromStartSeconds = Math.max(1, drain[1] - drainStartMillis) / 1000.0;

            // Our own reads while waiting (one HGETALL per kind and poll) and the INFO calls are not the tasks' commands.
            List<BenchResult.Shard> shards = benchReads.shards(connector, before, after, kinds, tasksPerKind, polls);
            long commands = shards.stream().mapToLong(BenchResult.Shard::commands).sum();
            long cpuMicros = shards.stream().mapToLong(BenchResult.Shard::cpuMicros).sum();
            long blockingCalls = after.callsSince(before, "blpop");
            double bytesPerTask = (double) (after.usedMemory() - before.usedMemory()) / options.tasks();

            if (System.getenv("TASKPOOL_BENCH_DEBUG") != null) {
                workerRuntimes.forEach(r -> System.err.println("script contexts created by a worker: " + r.scripts().contextsCreated()));
            }
            double[] latencies = measureLatency(store, task, app, registry, !workers.isEmpty());
            for (int k = 0; k < kinds.size(); k++) {
                benchReads.verifyAllSucceeded(connector, reads, kinds.get(k), tasksPerKind.get(k));
            }
            System.gc();
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            for (Worker worker : workers) {
                worker.close();
            }
            for (Process process : processes) {
                process.destroy();
                process.waitFor();
            }
            if (!options.keepData()) {
                kinds.forEach(operations::erase);
            }
            return new BenchResult(options.processor().name().toLowerCase(), options.tasks(), options.concurrency(),
                    options.workerProcesses() > 0 ? options.workerProcesses() : options.workers(), options.tasks() / enqueueSeconds, options.tasks() / processSeconds,
                    LatencyProbe.percentile(latencies, 50), LatencyProbe.percentile(latencies, 99), (double) commands / options.tasks(),
                    (double) (scriptCalls + blockingCalls) / options.tasks(), bytesPerTask, Math.max(heap, benchReads.peakHeap()),
                    options.warmup(), hostJit(), kinds.size(), (double) cpuMicros / options.tasks(), shards,
                    options.adds().name().toLowerCase(), options.adds() != Adds.BULK ? options.inFlight() : 0,
                    (double) enqueueCpuMicros / options.tasks(), (double) enqueueCommands / options.tasks(),
                    jvmCpuNanos / 1000.0 / options.tasks(), options.tasks() / fromStartSeconds, workerCpuMicrosPerTask,
                    options.flow().describe());
        } finally {
            closeAll(open);
        }
    }

    /** Closes what was opened, last first; best effort: the run (or its part) is over. */
    private static void closeAll(List<AutoCloseable> open) {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    /**
     * The add->start latency after the run, on the workers that drained it (warm), or on one
     * in-process worker when the run used worker processes.
     */
    private double[] measureLatency(AddStore store, String task, Path app, ProcessRegistry registry, boolean workersRunning)
            throws InterruptedException, IOException {
        if (options.latencySamples() == 0) {
            return new double[] {0};
        }
        String latencyTask = task + "l";
        double[] samples;
        List<AutoCloseable> own = new ArrayList<>();
        try {
            if (!workersRunning) {
                RedisConnector workerRedis = connect();
                own.add(workerRedis);
                AppRuntime runtime = AppRuntime.open(app, new AddStore(workerRedis), registry, workerRedis.clock());
                own.add(runtime);
                own.add(new Worker(runtime, settings("bench-latency"), List.of(latencyTask)).start());
            }
            samples = probe.measure(options.latencySamples(),
                    i -> store.add(latencyTask, null, "[" + i + "]", System.currentTimeMillis()).id());
        } finally {
            closeAll(own);
        }
        new TaskOperations(store.redis()).erase(latencyTask);
        return samples;
    }

    /** "c1" when this JVM compiles with C1 only (-XX:TieredStopAtLevel=1), else "tiered". */
    private static String hostJit() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(arg -> arg.equals("-XX:TieredStopAtLevel=1")) ? "c1" : "tiered";
    }

    private static void awaitPresence(PresenceStore presence, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (expected > 0) {
            long present = presence.seenSince(System.currentTimeMillis() - 5000).stream()
                    .filter(id -> id.startsWith("bench-process-")).count();
            if (present >= expected) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new TaskpoolException("the benchmark's worker processes did not start within 60 s");
            }
            Thread.sleep(100);
        }
    }

    private WorkerSettings settings(String id) {
        return WorkerSettings.defaults().withWorkerId(id + "-" + ProcessHandle.current().pid());
    }

    private void warmUp(Path app, ProcessRegistry registry, AddStore store, String task) throws InterruptedException {
        String warm = task + "w";
        Path definition = app.resolve("tasks/" + task.replace('.', '/') + ".yao");
        Path warmDefinition = app.resolve("tasks/" + warm.replace('.', '/') + ".yao");
        try {
            Files.copy(definition, warmDefinition);
        } catch (IOException e) {
            throw new TaskpoolException("cannot write the warm-up task: " + e.getMessage(), e);
        }
        try (RedisConnector workerRedis = connect();
             AppRuntime runtime = AppRuntime.open(app, new AddStore(workerRedis), registry, workerRedis.clock())) {
            store.publish(runtime.definition(warm).orElseThrow());
            if (options.adds() != Adds.BULK) {
                try (TaskpoolClient client = TaskpoolClient.connect(options.redisUri(), tls)) {
                    BenchAdds.oneByOne(client, warm, options.warmup(), options.adds(), options.inFlight(), options.flow());
                }
            } else {
                BenchAdds.bulk(store, warm, options.warmup(), options.flow());
            }
            try (Worker worker = new Worker(runtime, settings("bench-warmup"), List.of(warm)).start()) {
                benchReads.awaitSucceeded(store.redis(), List.of(warm), List.of(options.warmup()), System.nanoTime());
            }
        } finally {
            try {
                Files.delete(warmDefinition);
            } catch (IOException ignored) {
                // a leftover file in a temporary directory
            }
            new TaskOperations(store.redis()).erase(warm);
        }
    }
}
