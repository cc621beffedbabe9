package dev.taskpool.core.ops;

/**
 * What an operator sees of one task kind: the live counts (waiting, running), the counters that
 * outlive the tasks (totals since the kind was first used), the finished tasks still retained in
 * the indexes, whether it is paused and by whom, the age of the oldest waiting task (-1 when none
 * waits) and the tasks finished per second over the last minute.
 */
public record KindStats(String task, long waiting, long running, long succeededTotal, long failedTotal, long retried,
                        long recovered, long canceled, long addedTotal, long succeededRetained, long failedRetained,
                        boolean paused, String pausedBy, long oldestWaitingAgeMs, double finishedPerSecondLastMinute) {
}
