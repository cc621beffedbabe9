package dev.taskpool.worker.metrics;

import dev.taskpool.core.ops.TaskOperations;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * {@link WorkerMetrics} kept in a Micrometer registry. Meter names (Prometheus form in brackets),
 * each tagged {@code task}:
 * <ul>
 *   <li>counters of this process's work: {@code taskpool.tasks.added} ({@code taskpool_tasks_added_total}),
 *       {@code .succeeded}, {@code .failed}, {@code .retried}, {@code .recovered}, {@code .canceled};</li>
 *   <li>{@code taskpool.run.duration} ({@code taskpool_run_duration_seconds}), one processor run, tagged
 *       {@code outcome} success|error, and {@code taskpool.wait} ({@code taskpool_wait_seconds}), add to first
 *       start: timers with the histogram buckets of {@link #BUCKETS} (a percentile histogram would be about
 *       70 buckets per timer and kind, tens of KB per scrape for a worker of a few kinds);</li>
 *   <li>gauges {@code taskpool.slots.busy} and {@code taskpool.slots.capacity} of the kinds this worker serves.</li>
 * </ul>
 */
public final class MicrometerWorkerMetrics implements WorkerMetrics {
    /** Names every meter of this class starts with. */
    public static final String PREFIX = "taskpool.";
    /** The upper bounds of the run and wait time buckets, from a quick script to an hour-long job. */
    static final Duration[] BUCKETS = {
            Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofHours(1)};

    private final MeterRegistry registry;
    private final KindGauges kindGauges;
    private final Map<String, KindMeters> kinds = new ConcurrentHashMap<>();

    /** This worker's own meters only. */
    public MicrometerWorkerMetrics(MeterRegistry registry) {
        this(registry, null);
    }

    /** Its own meters, and the {@link KindGauges} of the kinds it serves, read through {@code operations}. */
    public MicrometerWorkerMetrics(MeterRegistry registry, TaskOperations operations) {
        this.registry = registry;
        this.kindGauges = operations == null ? null : new KindGauges(operations, registry);
    }

    /** The meters of one kind, made on first use (a script may add tasks of kinds this worker does not serve). */
    private final class KindMeters {
        final Counter added;
        final Counter succeeded;
        final Counter failed;
        final Counter retried;
        final Counter recovered;
        final Counter canceled;
        final Timer runSucceeded;
        final Timer runFailed;
        final Timer waited;

        KindMeters(String task) {
            added = counter("added", task, "tasks this process added");
            succeeded = counter("succeeded", task, "tasks this worker ended in SUCCESS");
            failed = counter("failed", task, "tasks this worker ended in FAILURE");
            retried = counter("retried", task, "failed runs this worker retried");
            recovered = counter("recovered", task, "tasks with an expired lease this worker's recoverer handled");
            canceled = counter("canceled", task, "runs of this worker stopped by an operator's cancel");
            runSucceeded = runTimer(task, "success");
            runFailed = runTimer(task, "error");
            waited = Timer.builder(PREFIX + "wait").tag("task", task)
                    .description("how long a task waited from its add to its first start")
                    .serviceLevelObjectives(BUCKETS).register(registry);
        }

        private Counter counter(String name, String task, String description) {
            return Counter.builder(PREFIX + "tasks." + name).tag("task", task).description(description).register(registry);
        }

        private Timer runTimer(String task, String outcome) {
            return Timer.builder(PREFIX + "run.duration").tags("task", task, "outcome", outcome)
                    .description("how long one run of the processor took")
                    .serviceLevelObjectives(BUCKETS).register(registry);
        }
    }

    private KindMeters kind(String task) {
        return kinds.computeIfAbsent(task, KindMeters::new);
    }

    @Override
    public void serving(String task, int totalSlots, IntSupplier busySlots) {
        kind(task);   // its counters show 0 from the start, so that rate() has a first sample
        if (kindGauges != null) {
            kindGauges.watch(task);
        }
        Gauge.builder(PREFIX + "slots.capacity", () -> totalSlots).tag("task", task)
                .description("slots (worker_nums) this worker has for the kind").register(registry);
        Gauge.builder(PREFIX + "slots.busy", busySlots::getAsInt).tag("task", task)
                .description("slots of this worker running a task of the kind now").register(registry);
    }

    @Override
    public void added(String task, int count) {
        kind(task).added.increment(count);
    }

    @Override
    public void started(String task, long waitedMs) {
        kind(task).waited.record(Math.max(waitedMs, 0), TimeUnit.MILLISECONDS);
    }

    @Override
    public void runEnded(String task, boolean succeeded, long nanos) {
        KindMeters meters = kind(task);
        (succeeded ? meters.runSucceeded : meters.runFailed).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void succeeded(String task) {
        kind(task).succeeded.increment();
    }

    @Override
    public void failed(String task) {
        kind(task).failed.increment();
    }

    @Override
    public void retried(String task) {
        kind(task).retried.increment();
    }

    @Override
    public void recovered(String task, int count) {
        kind(task).recovered.increment(count);
    }

    @Override
    public void canceled(String task) {
        kind(task).canceled.increment();
    }
}
