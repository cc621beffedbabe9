package dev.taskpool.core.run;

/** The outcome of a transition guarded by a lease token. */
public enum TransitionResult {
    /** The transition was written. */
    DONE,
    /** The task record no longer exists (expired or deleted by hand). */
    TASK_MISSING,
    /** Another run holds the task now (its lease expired and it was recovered), or an operator canceled it; nothing was written. */
    LEASE_LOST;

    static TransitionResult fromCode(long code) {
        return switch ((int) code) {
            case 1, 2 -> DONE;   // 2: the same command was applied before (re-sent after a reconnect)
            case -3 -> TASK_MISSING;
            case -4 -> LEASE_LOST;
            default -> throw new IllegalStateException("unexpected script result " + code);
        };
    }
}
