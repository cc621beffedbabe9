package dev.taskpool.core.redis;

/**
 * A task a worker took from the queue: it is RUNNING under the worker's lease.
 *
 * @param attempt   the number of this run, counting from 1
 * @param args      the arguments as a JSON array (as stored; the worker validates it)
 * @param token     the lease token; only its holder may complete, retry or release the task
 * @param createdAt when the task was added (epoch ms; 0 when unknown): the wait-time metric
 */
public record FetchedTask(String task, long id, int attempt, String args, String token, long createdAt) {

    /** A run whose creation time is not known (a retry's next run, tests). */
    public FetchedTask(String task, long id, int attempt, String args, String token) {
        this(task, id, attempt, args, token, 0);
    }
}
