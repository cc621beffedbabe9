package dev.taskpool.worker;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.metrics.MicrometerWorkerMetrics;
import dev.taskpool.worker.metrics.RedisLatencies;
import dev.taskpool.core.json.ValueLimits;
import dev.taskpool.worker.java.AnnotatedTasks;
import dev.taskpool.worker.java.JavaProcessor;
import dev.taskpool.worker.java.JavaTask;
import dev.taskpool.worker.java.JavaTasks;
import dev.taskpool.worker.process.ProcessHandler;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * A worker inside a Java application: loads an app directory, offers the application's Java
 * processes to it, publishes its task definitions and runs its tasks, until {@link #close()}
 * stops it gracefully (as SIGTERM stops {@code taskpool worker}).
 *
 * <pre>{@code
 * try (EmbeddedWorker worker = EmbeddedWorker.builder("redis://127.0.0.1:6379", Path.of("app"))
 *         .process("models.image.resize", args -> resize((String) args.get(1)))
 *         .start()) {
 *     long id = ((Number) worker.call("tasks.image.resize.add", "photo.jpg")).longValue();
 *     ...
 * }
 * }</pre>
 *
 * <p>Kinds can also be processed by Java methods, with or without an app directory:
 * {@code EmbeddedWorker.builder(url).processors(new MailService()).start()} runs every
 * {@link dev.taskpool.spring.TaskProcessor} method of the object.
 */
public final class EmbeddedWorker implements AutoCloseable {
    private final RedisConnector redis;
    private final AppRuntime runtime;
    private final Worker worker;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedWorker(RedisConnector redis, AppRuntime runtime, Worker worker) {
        this.redis = redis;
        this.runtime = runtime;
        this.worker = worker;
    }

    /** A builder for a worker on the Redis at {@code redisUri} running the app in {@code appDirectory}. */
    public static Builder builder(String redisUri, Path appDirectory) {
        return new Builder(redisUri).appDirectory(appDirectory);
    }

    /** A builder for a worker on the Redis at {@code redisUri} with no app directory: its kinds are Java processors. */
    public static Builder builder(String redisUri) {
        return new Builder(redisUri);
    }

    /**
     * Calls a process as a script would ({@code tasks.<id>.add} with its {@code next}/{@code add}
     * events, {@code tasks.<id>.get}, {@code scripts.*}, a registered Java process).
     */
    public Object call(String process, Object... args) {
        if (closed.get()) {
            // (the script engine would only say "cannot be started once stopped")
            throw new IllegalStateException("embedded worker " + workerId() + " is closed: " + process
                    + " cannot be called any more");
        }
        return runtime.call(process, Arrays.asList(args));
    }

    /** This worker's name in task records and in {@code taskpool:workers}. */
    public String workerId() {
        return worker.settings().workerId();
    }

    /** The kinds this worker runs. */
    public List<String> kinds() {
        return worker.taskIds();
    }

    /** Runs in progress in this worker now. */
    public int runningCount() {
        return worker.runningCount();
    }

    /**
     * Stops gracefully: no new tasks, running ones get the grace period, the rest go back to the
     * queue; then the app and the Redis connections close.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;   // closed already: a second close does nothing
        }
        try {
            worker.close();
        } finally {
            try {
                runtime.close();
            } finally {
                redis.close();
            }
        }
    }

    public static final class Builder {
        private final String redisUri;
        private Path appDirectory;
        private final ProcessRegistry processes = new ProcessRegistry();
        private final JavaTasks javaTasks = new JavaTasks();
        private final Map<String, Integer> workerNums = new LinkedHashMap<>();
        private List<String> tasks = List.of();
        private WorkerSettings settings = WorkerSettings.defaults();
        private Duration commandTimeout = RedisConnector.DEFAULT_COMMAND_TIMEOUT;
        private RedisTls tls = RedisTls.fromEnvironment();
        private MeterRegistry meters;

        private Builder(String redisUri) {
            this.redisUri = Objects.requireNonNull(redisUri, "redisUri");
        }

        /** The app directory holding {@code tasks/}, {@code scripts/} and {@code schedules/} (default: none). */
        public Builder appDirectory(Path appDirectory) {
            this.appDirectory = Objects.requireNonNull(appDirectory, "appDirectory");
            return this;
        }

        /**
         * Processes the kinds of {@code bean}'s {@link dev.taskpool.spring.TaskProcessor} methods
         * (and adds the tasks of its {@link dev.taskpool.spring.TaskSchedule} ones on schedule).
         *
         * @throws dev.taskpool.core.definition.DefinitionException naming each bad annotation, or a kind claimed twice
         */
        public Builder processors(Object bean) {
            AnnotatedTasks.scan(bean).forEach(javaTasks::add);
            return this;
        }

        /** Processes {@code kind} with {@code processor}; the app directory must define the kind. */
        public Builder task(String kind, JavaProcessor processor) {
            javaTasks.add(JavaTask.of(kind, processor));
            return this;
        }

        /** Processes a kind in Java, with its own definition when it has one. */
        public Builder task(JavaTask task) {
            javaTasks.add(task);
            return this;
        }

        /** Runs {@code n} tasks of {@code kind} at once in this worker, in place of its definition's {@code worker_nums}. */
        public Builder workerNums(String kind, int n) {
            if (n < 1) {
                throw new IllegalArgumentException("worker_nums of " + kind + " must be at least 1, got " + n);
            }
            workerNums.put(Objects.requireNonNull(kind, "kind"), n);
            return this;
        }

        /** Offers a Java process under {@code name} (e.g. a task's {@code process}, or one scripts call). */
        public Builder process(String name, ProcessHandler handler) {
            processes.register(name, handler);
            return this;
        }

        /** Runs only these tasks of the app (default: all of them). */
        public Builder tasks(String... taskIds) {
            this.tasks = List.of(taskIds);
            return this;
        }

        /** Changes the worker's settings (lease, heartbeat, grace, worker id...), e.g. {@code s -> s.withShutdownGrace(d)}. */
        public Builder settings(UnaryOperator<WorkerSettings> change) {
            this.settings = Objects.requireNonNull(change.apply(settings), "settings");
            return this;
        }

        /** How long one Redis command may take before it fails (default 10 s). */
        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * The CA and client certificate of a {@code rediss://} URL (default: from {@code TASKPOOL_REDIS_CA},
         * {@code TASKPOOL_REDIS_CERT} and {@code TASKPOOL_REDIS_KEY}), e.g. {@code RedisTls.none().withCa(caPem)}.
         */
        public Builder tls(RedisTls settings) {
            this.tls = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Reports the worker's work to the application's Micrometer registry: per kind counters of
         * what this worker did, run and wait times, busy and total slots, kind-wide gauges read from
         * Redis (cached a few seconds) and Lettuce's command latencies. Without it no metrics are kept.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meters = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Connects, loads and checks the app (a bad definition fails here, naming file and field),
         * publishes its definitions and starts taking tasks.
         */
        public EmbeddedWorker start() {
            RedisConnector redis = RedisConnector.connect(redisUri, commandTimeout, tls,
                    meters == null ? null : RedisLatencies.recorder(meters));
            AppRuntime runtime = null;
            try {
                runtime = AppRuntime.open(appDirectory == null ? null : appDirectory.toAbsolutePath().normalize(), javaTasks,
                        new AddStore(redis), processes, redis.clock(), ValueLimits.defaults());
                if (meters != null) {
                    runtime.measureWith(new MicrometerWorkerMetrics(meters, new TaskOperations(redis)));
                }
                Worker worker = new Worker(runtime, settings, tasks, workerNums).start();
                return new EmbeddedWorker(redis, runtime, worker);
            } catch (RuntimeException e) {
                if (runtime != null) {
                    runtime.close();
                }
                redis.close();
                throw e;
            }
        }
    }
}
