package dev.taskpool.worker.exec;

import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The retry policy of one task kind, kept in Resilience4j's {@link Retry}: a failed run runs again
 * while runs are left ({@code max_runs}) and its error is not a stop ({@link RunStoppedException}).
 * A run asks it through {@link Retry.Context#onRuntimeError}, which throws the error back when the
 * run is not to run again. The Retry does not wait between runs ({@code waitDuration} zero): the
 * run waits out {@code attempt_after} itself, so that a stop order can cut the wait short.
 */
final class RunRetries {
    private final String task;
    /** One Retry per number of runs left (a run fetched again after a recovery has fewer): they are reusable. */
    private final Map<Integer, Retry> byRunsLeft = new ConcurrentHashMap<>();

    RunRetries(String task) {
        this.task = task;
    }

    /** The Retry for a run with {@code runsLeft} runs left, this one included (at least 1). */
    Retry forRunsLeft(int runsLeft) {
        int left = Math.max(runsLeft, 1);
        return byRunsLeft.computeIfAbsent(left, n -> Retry.of(task + "/" + n, RetryConfig.custom()
                .maxAttempts(n)
                .waitDuration(Duration.ZERO)
                .retryOnException(RunRetries::retryable)
                .build()));
    }

    /** Whether a run may run again after this error: not after a stop order. */
    static boolean retryable(Throwable error) {
        return !(error instanceof RunStoppedException);
    }
}
