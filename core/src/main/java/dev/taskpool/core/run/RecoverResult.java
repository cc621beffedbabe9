package dev.taskpool.core.run;

import java.util.List;

/**
 * What one recoverer pass did: tasks put back in the queue, tasks that ran out of runs, and
 * members of {@code leases} that were no task (removed on their own, with the reason).
 */
public record RecoverResult(int requeued, List<Long> failed, List<Dropped> dropped) {
    /** A {@code leases} member that is no task (e.g. {@code abc}), and why. */
    public record Dropped(String member, String reason) {
    }

    /** Leases handled in this pass: a full batch means more may be waiting. */
    public int handled() {
        return requeued + failed.size() + dropped.size();
    }
}
