package dev.taskpool.worker;

import dev.taskpool.core.Durations;
import java.time.Duration;

/**
 * Thrown by a task's processor (a Java {@code ProcessHandler}, or from JavaScript as
 * {@code throw RetryLater(5000, 'rate limited', {counts: false})}): this run failed, and the task
 * is to run again after {@link #waitBeforeNextRun()}, e.g. a 429 answer's {@code Retry-After}.
 *
 * <ul>
 *   <li>The wait replaces the definition's backoff for this one retry. It is at most
 *       {@link #MAX_WAIT} (7 days): a task waits for its next run in Redis, not in a worker, so a
 *       long wait costs nothing, but a wait past a week is taken for a mistake (a seconds value read
 *       as milliseconds, an absolute time passed as a wait).</li>
 *   <li>A run that {@link #counts() counts} (the default) uses up one of the task's runs, like any
 *       failure: with none left the task ends in FAILURE with this message. A run that does not
 *       count keeps the task's run budget, also on its last run: the hash's {@code attempt} stays
 *       where it was and {@code free_runs} goes up by one (runs made = {@code attempt +
 *       free_runs}). Nothing caps free runs: a processor that never stops asking waits forever.</li>
 * </ul>
 *
 * <p>A bad wait (negative, past the limit, or none) is refused where the exception is made, with an
 * {@link IllegalArgumentException} naming the value: the run then fails with that message, as a
 * run that counts, with the backoff's wait.
 */
public class RetryLater extends RuntimeException {
    /** The longest wait a processor may ask for. */
    public static final Duration MAX_WAIT = Duration.ofDays(7);

    private final Duration wait;
    private final boolean counts;
    private final boolean holdsKind;

    /** This run failed with {@code message}; the next one is due after {@code wait}, and this run counts. */
    public RetryLater(Duration wait, String message) {
        this(wait, message, true);
    }

    /**
     * This run failed with {@code message}; the next one is due after {@code wait}. {@code counts}
     * false: this run does not count against the definition's {@code attempts}.
     *
     * @throws IllegalArgumentException when {@code wait} is null, negative or longer than {@link #MAX_WAIT}
     */
    public RetryLater(Duration wait, String message, boolean counts) {
        this(wait, message, counts, false);
    }

    /** As {@link #RetryLater(Duration, String, boolean)}; {@code holdsKind}: see {@link RateLimited}. */
    RetryLater(Duration wait, String message, boolean counts, boolean holdsKind) {
        super(message == null || message.isEmpty() ? "retry later" : message, null, false, false);
        this.wait = checked(wait);
        this.counts = counts;
        this.holdsKind = holdsKind;
    }

    /** Whether no task of the kind is to start until the wait is over ({@link RateLimited}). */
    public boolean holdsKind() {
        return holdsKind;
    }

    /** The wait before the next run, in place of the backoff's. */
    public Duration waitBeforeNextRun() {
        return wait;
    }

    /** Whether this run counts against the definition's {@code attempts}. */
    public boolean counts() {
        return counts;
    }

    private static Duration checked(Duration wait) {
        if (wait == null) {
            throw new IllegalArgumentException("RetryLater: no wait given; expected 0 to " + limitText());
        }
        if (wait.isNegative()) {
            throw new IllegalArgumentException("RetryLater: the wait " + wait.toMillis() + " ms is negative; expected 0 to "
                    + limitText());
        }
        if (wait.compareTo(MAX_WAIT) > 0) {
            // (in seconds when it is too long for a long of milliseconds)
            String asked = wait.getSeconds() >= Long.MAX_VALUE / 1000 ? wait.getSeconds() + " s"
                    : wait.toMillis() + " ms (" + Durations.text(wait) + ")";
            throw new IllegalArgumentException("RetryLater: the wait " + asked + " is longer than the limit of " + limitText());
        }
        return wait;
    }

    private static String limitText() {
        return Durations.text(MAX_WAIT) + " (" + MAX_WAIT.toMillis() + " ms)";
    }
}
