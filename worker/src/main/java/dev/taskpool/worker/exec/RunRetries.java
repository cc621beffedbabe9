package dev.taskpool.worker.exec;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.worker.RetryLater;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The retry policy of one task kind, kept in Resilience4j's {@link Retry}: whether a failed run
 * runs again (while runs are left, and its error is not a stop: {@link RunStoppedException}) and,
 * through the Retry's interval function, after what wait: the definition's backoff for the n-th
 * retry, or the wait a processor asked for ({@link RetryLater}). Nothing waits here: Resilience4j
 * is asked through an {@link Retry.AsyncContext}, whose {@code onError} answers the interval
 * instead of sleeping it, and the task waits for its next run in Redis, not in the worker.
 *
 * <p>A run's number is the task's {@code attempt}: the runs that counted, this one included. A run
 * whose processor said it does not count ({@code RetryLater} with {@code counts} false) has one run
 * more left, so it runs again even when it was the last.
 */
final class RunRetries {
    private final TaskDefinition definition;
    /** One Retry per run number and whether the run counts (its runs left and its backoff step follow from them); reusable. */
    private final Map<Long, Retry> byRun = new ConcurrentHashMap<>();

    RunRetries(TaskDefinition definition) {
        this.definition = definition;
    }

    /** What follows a failed run: the next one after {@code delay}; {@code counts} tells whether the failed one counted. */
    record NextRun(Duration delay, boolean counts, boolean holdsKind) {
        NextRun(Duration delay, boolean counts) {
            this(delay, counts, false);
        }
    }

    /**
     * After run {@code attempt} failed with {@code failure}: the next run, or null when there is
     * none (no run left, or a stop).
     */
    NextRun afterFailure(int attempt, RuntimeException failure) {
        boolean counts = !(failure instanceof RetryLater request) || request.counts();
        long wait = policy(attempt, counts).asyncContext().onError(failure);
        boolean holdsKind = failure instanceof RetryLater request && request.holdsKind();
        return wait < 0 ? null : new NextRun(Duration.ofMillis(wait), counts, holdsKind);
    }

    private Retry policy(int attempt, boolean counts) {
        int run = Math.max(attempt, 1);
        return byRun.computeIfAbsent(run * 2L + (counts ? 1 : 0), key -> {
            // Resilience4j counts the run that failed as its first attempt: the runs it may make
            // are that one and the runs left after it (one more when it did not count).
            int leftAfter = Math.max(definition.maxRuns() - run + (counts ? 0 : 1), 0);
            return Retry.of(definition.id() + "/run " + run + (counts ? "" : " (free)"), RetryConfig.custom()
                    .maxAttempts(leftAfter + 1)
                    .intervalBiFunction((tries, outcome) -> waitMillis(run + tries - 1,
                            outcome.isLeft() ? outcome.getLeft() : null))
                    .retryOnException(RunRetries::retryable)
                    .build());
        });
    }

    /** The wait before retry number {@code retry}: what the processor asked for, else the backoff's. */
    private long waitMillis(int retry, Throwable failure) {
        if (failure instanceof RetryLater request) {
            return request.waitBeforeNextRun().toMillis();
        }
        return definition.retryWait(retry, ThreadLocalRandom.current().nextDouble()).toMillis();
    }

    /** Whether a run may run again after this error: not after a stop order. */
    static boolean retryable(Throwable error) {
        return !(error instanceof RunStoppedException);
    }
}
