package dev.taskpool.core.redis;

import dev.taskpool.core.TaskpoolException;

/**
 * An add whose outcome is unknown: Redis did not answer (a timeout, a dropped connection) and
 * no re-send of the same request got an answer before the add deadline. The tasks may or may not
 * have been added. Adding them again as a new add could duplicate them; send the same request
 * again instead ({@code TaskpoolClient.retryAdd(e.request())} or {@code AddStore.retryAdd}),
 * which returns the original ids if it was applied and applies it once if it was not.
 */
public final class AddOutcomeUnknownException extends TaskpoolException {
    private final transient AddRequest request;

    public AddOutcomeUnknownException(AddRequest request, String message, Throwable cause) {
        super(message, cause);
        this.request = request;
    }

    /** The request to send again (same request id, same tasks). */
    public AddRequest request() {
        return request;
    }

    public String requestId() {
        return request.requestId();
    }

    public String task() {
        return request.task();
    }
}
