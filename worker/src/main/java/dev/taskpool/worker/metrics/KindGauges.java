package dev.taskpool.worker.metrics;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.ops.KindOverview;
import dev.taskpool.core.ops.KindStats;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.worker.exec.RateLimitedLog;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToDoubleFunction;
import org.slf4j.LoggerFactory;

/**
 * Kind-wide gauges that only Redis knows, the same in every worker (in PromQL take {@code max},
 * not {@code sum}): {@code taskpool.queue.waiting} (every WAITING task), its two parts
 * {@code taskpool.queue.ready} (in the queue) and {@code taskpool.queue.delayed} (waiting for their
 * due time), {@code taskpool.queue.running},
 * {@code taskpool.queue.oldest.age.seconds} (seconds the oldest ready task has waited to start; 0 when none),
 * {@code taskpool.queue.paused} (1 or 0), {@code taskpool.queue.finished.rate} (tasks finished per
 * second over the last minute), what holds the kind back ({@code taskpool.queue.max.running}: its cap,
 * 0 when none; {@code taskpool.queue.at.cap}: 1 while as many run; {@code taskpool.queue.held.back.seconds}:
 * how long until its rate window or a hold a processor asked for lets it start again, 0 when neither
 * holds it) and {@code taskpool.kind.totals} tagged {@code counter} (the {@code stats} hash: added,
 * succeeded, failed, retried, recovered, canceled, duplicates, by every process).
 *
 * <p>Reading them costs Redis a few commands per kind, so they are read at most once per
 * {@link #REFRESH}, on the first scrape after that (nothing is read while nobody scrapes); the
 * other gauges of that scrape, and scrapes in between, use the cached numbers.
 *
 * <p>Each kind is read on its own: a kind whose keys hold the wrong type (written by hand) has no
 * numbers (NaN) until it is repaired, and is logged naming the key; the other kinds refresh. NaN
 * rather than its last numbers, because a broken key lasts until someone repairs it: numbers that
 * stopped moving would pass for live ones. When Redis itself cannot be read (or refuses the user a
 * command) every kind keeps its last numbers, as that usually passes, and the scrape asks no more.
 */
public final class KindGauges {
    /** The longest a gauge's number is reused before Redis is asked again. */
    public static final Duration REFRESH = Duration.ofSeconds(5);
    /** A failure that lasts (Redis refusing the user a command, say) is logged once per interval, not at every scrape. */
    private final RateLimitedLog failures = new RateLimitedLog(LoggerFactory.getLogger(KindGauges.class),
            "metrics: reading the kinds' counts from Redis", RateLimitedLog.INTERVAL);

    private final TaskOperations operations;
    private final MeterRegistry registry;
    /** Per kind: a kind broken by hand is logged once per interval with the key it names, apart from the others. */
    private final Map<String, RateLimitedLog> brokenKinds = new ConcurrentHashMap<>();
    private final List<String> kinds = new CopyOnWriteArrayList<>();
    private final ReentrantLock reading = new ReentrantLock();
    private volatile Map<String, KindStats> latest = Map.of();
    private volatile long readAtNanos;
    private volatile boolean everRead;

    public KindGauges(TaskOperations operations, MeterRegistry registry) {
        this.operations = operations;
        this.registry = registry;
    }

    /** Adds the gauges of {@code kind} (once per kind). */
    public void watch(String kind) {
        if (kinds.contains(kind)) {
            return;
        }
        brokenKinds.put(kind, new RateLimitedLog(LoggerFactory.getLogger(KindGauges.class),
                "metrics: reading the counts of kind " + kind + " from Redis", RateLimitedLog.INTERVAL));
        kinds.add(kind);
        everRead = false;   // read the new kind at the next scrape
        gauge("queue.waiting", kind, "tasks of the kind waiting in Redis, ready or delayed", KindStats::waiting);
        gauge("queue.ready", kind, "tasks of the kind in the queue, ready to start", KindStats::ready);
        gauge("queue.delayed", kind, "tasks of the kind waiting for their due time", KindStats::delayed);
        gauge("queue.running", kind, "tasks of the kind running on any worker", KindStats::running);
        gauge("queue.oldest.age.seconds", kind, "seconds the oldest ready task has waited to start (0: none is ready)",
                stats -> Math.max(stats.oldestWaitingAgeMs(), 0) / 1000.0);
        gauge("queue.paused", kind, "1 while the kind is paused", stats -> stats.paused() ? 1 : 0);
        gauge("queue.finished.rate", kind, "tasks finished per second over the last minute",
                KindStats::finishedPerSecondLastMinute);
        gauge("queue.max.running", kind, "the most tasks of the kind that may run at once (0: no cap)",
                stats -> stats.flow().maxRunning());
        gauge("queue.at.cap", kind, "1 while as many tasks of the kind run as its cap allows", stats -> stats.flow().atCap() ? 1 : 0);
        // (counted down at each scrape from the time read, by the clock the counts are judged by: Redis')
        gauge("queue.held.back.seconds", kind, "seconds until the kind's rate limit, or a hold a processor asked for,"
                + " lets it start tasks again (0: neither holds it back)",
                stats -> Math.max(0, stats.flow().blockedUntil() - operations.clock().millis()) / 1000.0);
        total(kind, "added", KindStats::addedTotal);
        total(kind, "succeeded", KindStats::succeededTotal);
        total(kind, "failed", KindStats::failedTotal);
        total(kind, "retried", KindStats::retried);
        total(kind, "recovered", KindStats::recovered);
        total(kind, "canceled", KindStats::canceled);
        total(kind, "duplicates", KindStats::duplicates);
    }

    private void gauge(String name, String kind, String description, ToDoubleFunction<KindStats> read) {
        Gauge.builder(MicrometerWorkerMetrics.PREFIX + name, this, gauges -> gauges.value(kind, read)).tag("task", kind)
                .description(description + " (read from Redis, at most every " + REFRESH.toSeconds() + " s)")
                .register(registry);
    }

    private void total(String kind, String counter, ToDoubleFunction<KindStats> read) {
        Gauge.builder(MicrometerWorkerMetrics.PREFIX + "kind.totals", this, gauges -> gauges.value(kind, read))
                .tags("task", kind, "counter", counter)
                .description("the kind's counters in Redis, by every process (read at most every " + REFRESH.toSeconds() + " s)")
                .register(registry);
    }

    /**
     * The cached number, refreshed first when it is older than {@link #REFRESH}; NaN when Redis could
     * not be read yet, or the kind's keys are broken.
     */
    double value(String kind, ToDoubleFunction<KindStats> read) {
        KindStats stats = fresh().get(kind);
        return stats == null ? Double.NaN : read.applyAsDouble(stats);
    }

    private Map<String, KindStats> fresh() {
        if (everRead && System.nanoTime() - readAtNanos < REFRESH.toNanos()) {
            return latest;
        }
        // One reader at a time; a gauge read meanwhile takes the numbers it finds.
        if (!reading.tryLock()) {
            return latest;
        }
        try {
            if (everRead && System.nanoTime() - readAtNanos < REFRESH.toNanos()) {
                return latest;
            }
            Map<String, KindStats> read = new HashMap<>(latest);
            String current = null;
            try {
                for (String kind : kinds) {
                    current = kind;
                    readKind(kind, read);
                }
                failures.succeeded();
            } catch (RuntimeException e) {
                // Redis itself: the scrape goes on with the last numbers (or none) of the kinds not
                // read yet, and asks no more (each kind would wait as long); the next try is one REFRESH later.
                failures.failed("kind " + current + (kinds.size() == 1 ? "" : " of " + kinds.size()), e);
            }
            latest = read;
            readAtNanos = System.nanoTime();
            everRead = true;
            return latest;
        } finally {
            reading.unlock();
        }
    }

    /** Puts the numbers of {@code kind} in {@code read}, or takes its old ones out when its keys are broken. */
    private void readKind(String kind, Map<String, KindStats> read) {
        RateLimitedLog broken = brokenKinds.get(kind);
        KindOverview row;
        try {
            row = operations.overview(kind);
        } catch (UnknownTaskException e) {
            row = new KindOverview(kind, null, e.getMessage());   // not published (any more): no numbers either
        }
        if (row.error() == null) {
            read.put(kind, row.stats());
            broken.succeeded();
        } else {
            read.remove(kind);
            broken.failed("its gauges are NaN meanwhile", new TaskpoolException(row.error()));
        }
    }
}
