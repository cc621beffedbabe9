package dev.taskpool.core.redis;

/**
 * One task of a batch add: its id (null for the next value of the counter) and its arguments.
 * It lives with {@link AddRequest}, which carries the tasks of an add applications may send again.
 */
public record NewTask(Long id, String argsJson) {
}
