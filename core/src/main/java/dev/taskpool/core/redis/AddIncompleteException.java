package dev.taskpool.core.redis;

import dev.taskpool.core.TaskpoolException;
import java.util.List;

/**
 * A batch of more than {@link AddRequest#CHUNK} tasks (sent in chunks) of which only the first
 * chunks were added before a chunk was refused (e.g. Redis full). The added tasks stay; the
 * rest was not written. {@code TaskpoolClient.retryAdd(e.request())} adds the rest once the
 * cause is fixed, without adding the first ones again.
 */
public final class AddIncompleteException extends TaskpoolException {
    private final transient AddRequest request;

    public AddIncompleteException(AddRequest request, TaskpoolException refusal) {
        super("only the first " + request.settled().size() + " of " + request.describe() + " were added (first id "
                + request.settled().getFirst() + ", last " + request.settled().getLast() + "), the rest were not: " + refusal.getMessage() + ". Send request " + request.requestId()
                + " again to add the rest", refusal);
        this.request = request;
    }

    /** The ids of the tasks that were added, in order. */
    public List<Long> added() {
        return request.settled();
    }

    /** The same request, with the added tasks marked as settled: sending it again adds the rest. */
    public AddRequest request() {
        return request;
    }
}
