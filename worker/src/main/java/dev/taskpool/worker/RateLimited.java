package dev.taskpool.worker;

import java.time.Duration;

/**
 * Thrown by a task's processor when the service it calls limits it (a 429 with
 * {@code Retry-After: 30}; from JavaScript {@code throw RateLimited(30000, 'api: slow down')}):
 * this run failed without counting against the task's {@code attempts}, the task runs again after
 * {@code wait}, and the whole kind holds back until then: no worker starts a task of the kind
 * before that time (Redis keeps it, in the kind's {@code flow} hash as {@code held_until}, so every
 * worker obeys; a later hold never shortens an earlier one). The wait is at most
 * {@link RetryLater#MAX_WAIT}, as for {@link RetryLater}.
 */
public class RateLimited extends RetryLater {
    /**
     * @throws IllegalArgumentException when {@code wait} is null, negative or longer than {@link RetryLater#MAX_WAIT}
     */
    public RateLimited(Duration wait, String message) {
        super(wait, message == null || message.isEmpty() ? "rate limited" : message, false, true);
    }
}
