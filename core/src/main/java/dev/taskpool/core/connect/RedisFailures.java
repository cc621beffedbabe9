package dev.taskpool.core.connect;

import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.RedisException;

/** Tells a failure of Redis itself apart from a bug, for code that must not know the Redis client library. */
public final class RedisFailures {
    private RedisFailures() {
    }

    /**
     * Whether {@code error} is Redis away or refusing (a connection lost, a command timed out, an
     * error reply), or taskpool's own report of one: expected in an outage, so a stack trace would
     * say nothing more than its message.
     */
    public static boolean fromRedis(Throwable error) {
        return error instanceof RedisException || error instanceof TaskpoolException;
    }
}
