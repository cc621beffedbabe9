package dev.taskpool.core.ops;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * What an operator sees of one task kind: the live counts (waiting, running), the counters that
 * outlive the tasks (totals since the kind was first used), the finished tasks still retained in
 * the indexes, whether it is paused and by whom, the age of the oldest ready task (-1 when none
 * is ready) and the tasks finished per second over the last minute.
 *
 * <p>{@code waiting} counts every WAITING task: {@code ready} ones (in the queue, taken in turn) and
 * {@code delayed} ones (a delayed add, or a retry waiting out its backoff, that may not start yet).
 * It stays the sum, as before delayed tasks existed, because a delayed task is WAITING (the seed's
 * statuses stay) and {@code size} counts both; the two parts are shown apart. {@code ready} counts
 * every priority's queue ({@code waiting} and {@code waiting:1} to {@code waiting:3}).
 *
 * <p>{@code flow}: what holds the kind back (its cap on running tasks, its rate, a hold a processor
 * asked for), {@link KindFlow#NONE} when nothing does and it has no cap; {@code duplicates}: the
 * adds answered with the id of a task that already held their unique key (the stats hash's
 * {@code duplicates}); {@code size}: the most tasks that may wait, as published (0 when none is).
 *
 * <p>A partitioned kind's counts are the sums over its partitions (its {@code size} and cap too,
 * which its partitions share; the oldest wait the longest of theirs; paused when any partition is,
 * and {@code pausedBy} the first such partition's), and {@code partitions} has a row per
 * partition ({@link PartitionStats}); its {@code flow} holds it back as a whole only while every
 * partition is held back the same way (at cap: all at their caps; until: the earliest time one of
 * them may start again), and the rows say which partitions are held back when only some are.
 * {@code partitions} is empty for an unpartitioned kind (and left out of the JSON).
 */
public record KindStats(String task, long waiting, long running, long succeededTotal, long failedTotal, long retried,
                        long recovered, long canceled, long addedTotal, long succeededRetained, long failedRetained,
                        boolean paused, String pausedBy, long oldestWaitingAgeMs, double finishedPerSecondLastMinute,
                        long ready, long delayed, KindFlow flow, long duplicates, long size,
                        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<PartitionStats> partitions) {
    public KindStats {
        flow = flow == null ? KindFlow.NONE : flow;
        partitions = partitions == null ? List.of() : List.copyOf(partitions);
    }

    /** The counts of a kind of unknown size, not partitioned. */
    public KindStats(String task, long waiting, long running, long succeededTotal, long failedTotal, long retried,
                     long recovered, long canceled, long addedTotal, long succeededRetained, long failedRetained,
                     boolean paused, String pausedBy, long oldestWaitingAgeMs, double finishedPerSecondLastMinute,
                     long ready, long delayed, KindFlow flow, long duplicates) {
        this(task, waiting, running, succeededTotal, failedTotal, retried, recovered, canceled, addedTotal,
                succeededRetained, failedRetained, paused, pausedBy, oldestWaitingAgeMs, finishedPerSecondLastMinute,
                ready, delayed, flow, duplicates, 0, List.of());
    }

    /** The counts of a kind without flow control and no duplicate refused. */
    public KindStats(String task, long waiting, long running, long succeededTotal, long failedTotal, long retried,
                     long recovered, long canceled, long addedTotal, long succeededRetained, long failedRetained,
                     boolean paused, String pausedBy, long oldestWaitingAgeMs, double finishedPerSecondLastMinute,
                     long ready, long delayed) {
        this(task, waiting, running, succeededTotal, failedTotal, retried, recovered, canceled, addedTotal,
                succeededRetained, failedRetained, paused, pausedBy, oldestWaitingAgeMs, finishedPerSecondLastMinute,
                ready, delayed, KindFlow.NONE, 0);
    }

    /** The counts of a kind without delayed tasks: every waiting task is ready. */
    public KindStats(String task, long waiting, long running, long succeededTotal, long failedTotal, long retried,
                     long recovered, long canceled, long addedTotal, long succeededRetained, long failedRetained,
                     boolean paused, String pausedBy, long oldestWaitingAgeMs, double finishedPerSecondLastMinute) {
        this(task, waiting, running, succeededTotal, failedTotal, retried, recovered, canceled, addedTotal,
                succeededRetained, failedRetained, paused, pausedBy, oldestWaitingAgeMs, finishedPerSecondLastMinute,
                waiting, 0);
    }

    /** These counts with {@code rows} as the partition breakdown. */
    KindStats withPartitions(List<PartitionStats> rows) {
        return new KindStats(task, waiting, running, succeededTotal, failedTotal, retried, recovered, canceled, addedTotal,
                succeededRetained, failedRetained, paused, pausedBy, oldestWaitingAgeMs, finishedPerSecondLastMinute,
                ready, delayed, flow, duplicates, size, rows);
    }

    /** How many partitions are paused, of those the counts cover (1 or 0 for an unpartitioned kind). */
    public long pausedPartitions() {
        return partitions.isEmpty() ? (paused ? 1 : 0) : partitions.stream().filter(PartitionStats::paused).count();
    }

    /**
     * The counts of a partitioned kind: the sums of its partitions' counts ({@code parts}, in
     * partition order), with {@code rows} as the breakdown.
     */
    static KindStats sum(String task, List<KindStats> parts, List<PartitionStats> rows) {
        long waiting = 0, running = 0, succeeded = 0, failed = 0, retried = 0, recovered = 0, canceled = 0, added = 0;
        long succeededRetained = 0, failedRetained = 0, ready = 0, delayed = 0, duplicates = 0, size = 0;
        long oldest = -1;
        double perSecond = 0;
        boolean paused = false;
        String pausedBy = null;
        for (KindStats part : parts) {
            waiting += part.waiting;
            running += part.running;
            succeeded += part.succeededTotal;
            failed += part.failedTotal;
            retried += part.retried;
            recovered += part.recovered;
            canceled += part.canceled;
            added += part.addedTotal;
            succeededRetained += part.succeededRetained;
            failedRetained += part.failedRetained;
            ready += part.ready;
            delayed += part.delayed;
            duplicates += part.duplicates;
            size += part.size;
            oldest = Math.max(oldest, part.oldestWaitingAgeMs);
            perSecond += part.finishedPerSecondLastMinute;
            if (part.paused && !paused) {
                paused = true;
                pausedBy = part.pausedBy;
            }
        }
        KindFlow flow = KindFlow.whole(parts.stream().map(KindStats::flow).toList());
        return new KindStats(task, waiting, running, succeeded, failed, retried, recovered, canceled, added,
                succeededRetained, failedRetained, paused, pausedBy, oldest, perSecond, ready, delayed, flow, duplicates,
                size, rows);
    }
}
