package dev.taskpool.core.connect;

import dev.taskpool.core.redis.RedisFullException;
import io.lettuce.core.RedisCommandExecutionException;

/**
 * Redis at its memory limit with a policy that evicts nothing refuses every write that needs memory
 * with an {@code OOM ...} error reply. This is the one place that recognises that reply and words it
 * for a user, so an add, an operator's retry and the dashboard all say the same thing.
 */
public final class RedisFull {
    private RedisFull() {
    }

    /** Whether Redis answered with its out-of-memory refusal somewhere in the causes of {@code error}. */
    public static boolean refused(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof RedisCommandExecutionException && String.valueOf(cause.getMessage()).startsWith("OOM")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The error a user reads: which Redis is full, what was refused (a noun phrase, e.g. "the add of
     * a task to mail"), that nothing was written, and what to do about it.
     */
    public static RedisFullException refusal(String redis, String refusedWhat, Throwable cause) {
        return new RedisFullException("Redis at " + redis + " is full (used memory reached maxmemory and its policy"
                + " evicts nothing): " + refusedWhat + " was refused and nothing was written; free memory or raise"
                + " maxmemory", cause);
    }
}
