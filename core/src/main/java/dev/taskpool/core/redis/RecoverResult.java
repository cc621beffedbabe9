package dev.taskpool.core.redis;

import java.util.List;

/** What one recoverer pass did: tasks put back in the queue, and tasks that ran out of runs. */
public record RecoverResult(int requeued, List<Long> failed) {
}
