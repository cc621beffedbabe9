package dev.taskpool.core.run;

import dev.taskpool.core.lua.ScriptReply;

/** The outcome of a transition guarded by a lease token. */
public enum TransitionResult {
    /** The transition was written. */
    DONE,
    /** The task record no longer exists (expired or deleted by hand). */
    TASK_MISSING,
    /** Another run holds the task now (its lease expired and it was recovered), or an operator canceled it; nothing was written. */
    LEASE_LOST;

    static TransitionResult fromCode(long code) {
        ScriptReply reply = ScriptReply.of(code);
        return switch (reply) {
            case DONE, ALREADY_DONE -> DONE;   // already done: the same command, re-sent after a reconnect
            case TASK_MISSING -> TASK_MISSING;
            case LEASE_LOST -> LEASE_LOST;
            default -> throw new IllegalStateException("unexpected script result " + reply + " (" + code + ")");
        };
    }
}
