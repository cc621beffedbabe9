package dev.taskpool.core.redis;

import dev.taskpool.core.TaskpoolException;

/**
 * A write Redis refused because it is full (maxmemory reached, nothing evicted); nothing was
 * written. Its message, from {@code RedisFull.refusal}, says so and what to do.
 */
public class RedisFullException extends TaskpoolException {
    public RedisFullException(String message, Throwable cause) {
        super(message, cause);
    }
}
