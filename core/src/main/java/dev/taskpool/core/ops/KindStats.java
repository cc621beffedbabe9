package dev.taskpool.core.ops;

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
 * {@code duplicates}).
 */
public record KindStats(String task, long waiting, long running, long succeededTotal, long failedTotal, long retried,
                        long recovered, long canceled, long addedTotal, long succeededRetained, long failedRetained,
                        boolean paused, String pausedBy, long oldestWaitingAgeMs, double finishedPerSecondLastMinute,
                        long ready, long delayed, KindFlow flow, long duplicates) {
    public KindStats {
        flow = flow == null ? KindFlow.NONE : flow;
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
}
