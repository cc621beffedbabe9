package dev.taskpool.core.run;

/**
 * A task a worker took from the queue: it is RUNNING under the worker's lease.
 *
 * @param attempt   the number of this run, counting from 1 (an operator's retry counts from 1 again)
 * @param args      the arguments as a JSON array (as stored; the worker validates it)
 * @param token     the lease token, {@code <worker>/<lease number>}; only its holder may complete,
 *                  retry or release the task. The lease number counts every lease the task was
 *                  ever given (its hash's {@code lease_seq}) and is never reset, not even by an
 *                  operator's retry: no two runs of a task share a token.
 * @param createdAt when the task was added (epoch ms; 0 when unknown): the wait-time metric
 */
public record FetchedTask(String task, long id, int attempt, String args, String token, long createdAt) {

    /** A run whose creation time is not known (tests). */
    public FetchedTask(String task, long id, int attempt, String args, String token) {
        this(task, id, attempt, args, token, 0);
    }

    /** The token of the lease numbered {@code lease} held by {@code worker}. */
    public static String token(String worker, long lease) {
        return worker + "/" + lease;
    }

    /** The worker holding this lease (a worker id may itself hold slashes: the number follows the last). */
    public String worker() {
        return token.substring(0, token.lastIndexOf('/'));
    }
}
