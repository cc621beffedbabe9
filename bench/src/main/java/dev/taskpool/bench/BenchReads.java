package dev.taskpool.bench;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.ops.TaskPage;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskReads;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a {@link Bench} run reads of Redis about its kinds, per kind and per partition: their
 * counters while it waits for the drain, the drain's first start and last finish, the check that
 * every task succeeded, and each master's share of the run. A partitioned kind is read in each of
 * its partitions; each kind's layout is read once.
 */
final class BenchReads {
    /** Tasks read at each end of a run served in order, for its first start and its last finish. */
    private static final int SPAN_SAMPLE = 2000;

    /** Each kind's layout, read once (see {@link #layout}). */
    private final Map<String, KindLayout> layouts = new ConcurrentHashMap<>();
    /** The counters' reader of each connection (one per run). */
    private final Map<RedisConnector, TaskReads> reads = new ConcurrentHashMap<>();
    private final AtomicLong peakHeap = new AtomicLong();

    /** The most heap this JVM used at a poll while waiting for the tasks to succeed. */
    long peakHeap() {
        return peakHeap.get();
    }

    /**
     * Each master's share of the run: the kinds (or partitions) whose slot it serves and their tasks,
     * the CPU it spent and the commands it executed, less the benchmark's own reads there (its polls
     * of those partitions' counters and every INFO, Lettuce's topology refreshes included).
     */
    List<BenchResult.Shard> shards(RedisConnector connector, RedisCounters before, RedisCounters after,
                                   List<String> kinds, List<Integer> tasksPerKind, long pollsPerKind) {
        List<BenchResult.Shard> shards = new ArrayList<>();
        for (String node : after.byNode().keySet()) {
            List<String> here = new ArrayList<>();
            long tasks = 0;
            for (int k = 0; k < kinds.size(); k++) {
                KindLayout layout = layout(connector, kinds.get(k));
                for (Keys keys : layout.all()) {
                    if (connector.masterOf(keys.waiting()).equals(node)) {
                        here.add(keys.partition());
                        tasks += layout.partitioned() ? addedTo(connector, layout, keys) : tasksPerKind.get(k);
                    }
                }
            }
            RedisCounters.Node end = after.node(node);
            RedisCounters.Node start = before.node(node);
            long commands = end.commandsSince(start) - pollsPerKind * here.size() - end.callsSince(start, "info");
            shards.add(new BenchResult.Shard(node, List.copyOf(here), tasks, end.cpuMicros() - start.cpuMicros(), commands));
        }
        return shards;
    }

    /**
     * The tasks added to one partition of a partitioned kind. A partition's name reads that
     * partition alone, but partition 0's name is the kind's, which reads them all: its own are the
     * kind's less the others'.
     */
    private static long addedTo(RedisConnector connector, KindLayout layout, Keys partition) {
        TaskReads reads = new TaskReads(connector);
        if (!partition.partition().equals(layout.kind())) {
            return reads.stats(partition.partition()).get("added");
        }
        long others = 0;
        for (Keys keys : layout.all().subList(1, layout.all().size())) {
            others += reads.stats(keys.partition()).get("added");
        }
        return reads.stats(layout.kind()).get("added") - others;
    }

    /** A kind's layout (its partitions), read once its definition is published. */
    private KindLayout layout(RedisConnector connector, String kind) {
        return layouts.computeIfAbsent(kind, ignored -> new KindLayouts(connector).fresh(kind));
    }

    /** A kind's counters, summed over its partitions: one HGETALL per partition ({@link TaskReads#stats}). */
    private Map<String, Long> counters(RedisConnector connector, String kind) {
        return reads.computeIfAbsent(connector, TaskReads::new).stats(kind);
    }

    /**
     * Waits until every task of every kind succeeded; returns how many polls that took, each one
     * read of every partition's counters (they are subtracted from the commands counted). Each poll
     * notes this JVM's heap for {@link #peakHeap}.
     */
    long awaitSucceeded(RedisConnector connector, List<String> kinds, List<Integer> expected, long start)
            throws InterruptedException {
        long polls = 0;
        var heap = ManagementFactory.getMemoryMXBean();
        while (true) {
            polls++;
            boolean done = true;
            Map<String, Map<String, Long>> all = new LinkedHashMap<>();
            for (int k = 0; k < kinds.size(); k++) {
                Map<String, Long> stats = counters(connector, kinds.get(k));
                all.put(kinds.get(k), stats);
                if (stats.get("failed") > 0) {
                    throw new TaskpoolException(stats.get("failed") + " benchmark tasks of " + kinds.get(k) + " failed");
                }
                done &= stats.get("succeeded") >= expected.get(k);
            }
            peakHeap.accumulateAndGet(heap.getHeapMemoryUsage().getUsed(), Math::max);
            if (done) {
                return polls;
            }
            if (System.nanoTime() - start > Duration.ofMinutes(30).toNanos()) {
                throw new TaskpoolException("the benchmark did not drain within 30 minutes: " + all);
            }
            Thread.sleep(5);
        }
    }

    /** The first start and the last finish over every kind (epoch ms), as the task records say. */
    long[] drainSpan(RedisConnector connector, TaskOperations operations, List<String> kinds,
                     List<Integer> tasksPerKind, boolean firstInFirstOut) {
        long firstStart = Long.MAX_VALUE;
        long lastFinish = 0;
        List<Long> batch = new ArrayList<>();
        for (int k = 0; k < kinds.size(); k++) {
            if (layout(connector, kinds.get(k)).partitioned()) {
                long[] span = partitionedDrainSpan(connector, layout(connector, kinds.get(k)));
                firstStart = Math.min(firstStart, span[0]);
                lastFinish = Math.max(lastFinish, span[1]);
                continue;
            }
            int count = tasksPerKind.get(k);
            // A queue served in order starts its lowest ids first (the first fetch takes them), and its
            // `succeeded` index ends with the last finishes: a few thousand reads instead of one per
            // task, whose CPU (this process's and Redis') the whole-run figures would count.
            int read = firstInFirstOut ? Math.min(count, SPAN_SAMPLE) : count;
            for (long id = 1; id <= read; id++) {
                batch.add(id);
                if (batch.size() == 1000 || id == read) {
                    for (Map<String, String> times : operations.fields(kinds.get(k), batch, "started_at", "finished_at")) {
                        try {
                            firstStart = Math.min(firstStart, Long.parseLong(times.get("started_at")));
                            lastFinish = Math.max(lastFinish, Long.parseLong(times.get("finished_at")));
                        } catch (NumberFormatException e) {
                            throw new TaskpoolException("cannot read the benchmark's task records: " + e.getMessage(), e);
                        }
                    }
                    batch.clear();
                }
            }
            if (read < count) {
                lastFinish = Math.max(lastFinish, new TaskReads(connector).lastSucceededAt(kinds.get(k), SPAN_SAMPLE));
            }
        }
        return new long[] {firstStart, lastFinish};
    }

    /**
     * A partitioned kind's first start and last finish: its ids are not 1..N, so each partition's
     * SUCCESS tasks are listed, page by page, with their start and finish.
     */
    private static long[] partitionedDrainSpan(RedisConnector connector, KindLayout layout) {
        TaskOperations operations = new TaskOperations(connector);
        long firstStart = Long.MAX_VALUE;
        long lastFinish = 0;
        for (Keys keys : layout.all()) {
            String cursor = null;
            do {
                TaskPage page = operations.list(keys.partition(), TaskStatus.SUCCESS, TaskOperations.MAX_PAGE, cursor);
                for (TaskInfo task : page.tasks()) {
                    firstStart = Math.min(firstStart, task.startedAt());
                    lastFinish = Math.max(lastFinish, task.finishedAt());
                }
                cursor = page.nextCursor();
            } while (cursor != null);
        }
        return new long[] {firstStart, lastFinish};
    }

    /** Checks that every task of {@code task} succeeded: its counters, and one id in a hundred of a kind numbered 1..N. */
    void verifyAllSucceeded(RedisConnector connector, TaskReads store, String task, int count) {
        Map<String, Long> stats = counters(connector, task);
        if (stats.get("succeeded") != count || stats.get("failed") != 0) {
            throw new TaskpoolException("not every benchmark task of " + task + " succeeded: " + stats);
        }
        if (layout(connector, task).partitioned()) {
            return;   // (its ids are not 1..N: the counters of every partition say it)
        }
        for (long id = 1; id <= count; id += Math.max(1, count / 100)) {
            String status = store.get(task, id).map(TaskInfo::status).map(TaskStatus::name).orElse(null);
            if (!TaskStatus.SUCCESS.name().equals(status)) {
                throw new TaskpoolException("benchmark task #" + id + " is " + status + ", not SUCCESS");
            }
        }
    }
}
