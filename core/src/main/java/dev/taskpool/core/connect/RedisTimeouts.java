package dev.taskpool.core.connect;

import java.time.Duration;

/**
 * Every wait that follows from the Redis command timeout, in one place, each named for what it
 * bounds. The command timeout itself is Lettuce's: a command that has no reply by then fails (and
 * is not sent again after a reconnect). The waits here are the callers' own bounds around it.
 *
 * <p>How they relate, shortest first, for a command timeout {@code T} (10 s by default):
 * <ul>
 *   <li>a blocking pop and a replication WAIT block at most {@code T / 2}: Redis must answer them
 *       before Lettuce gives up, or a popped element or a WAIT reply would be lost;</li>
 *   <li>a caller waits {@code T + 1 s} for a reply ({@link #replyWait()}): Lettuce's own timeout,
 *       with its clearer error, comes first, and the caller's bound only catches a future that
 *       Lettuce never completes;</li>
 *   <li>an add is re-sent for {@code 3 T} ({@link #defaultAddDeadline()}), may still be sent by a
 *       retrying caller for {@code 6 T} more ({@link #sendWindow}), and its request id is remembered
 *       by Redis for {@code 2 T} beyond that ({@link #requestMemory}), so a copy still in flight
 *       always finds the first one's record.</li>
 * </ul>
 * A worker's heartbeat waits at most {@link #replyWait()}, cut to lease minus heartbeat when that
 * is shorter (the worker's {@code Timeouts}).
 *
 * @param command how long one Redis command may wait for its reply (Lettuce's command timeout)
 */
public record RedisTimeouts(Duration command) {
    /** The margin a caller gives Lettuce to time a command out itself before the caller does. */
    private static final Duration REPLY_MARGIN = Duration.ofSeconds(1);

    public RedisTimeouts {
        if (command.isNegative() || command.isZero()) {
            throw new IllegalArgumentException("a command timeout must be positive, got " + command);
        }
    }

    /**
     * How long a caller waits for the reply of one command or script: the command timeout and a
     * second, so that Lettuce's own timeout fires first and this bound is only a backstop.
     */
    public Duration replyWait() {
        return command.plus(REPLY_MARGIN);
    }

    /**
     * How long an add waits behind the earlier calls of its kind before it goes alone: one command
     * timeout, which bounds the call out before it anyway.
     */
    public Duration addQueueWait() {
        return command;
    }

    /**
     * How long a caller waits for the reply of one send of an add: a grouped add may wait for the
     * call out before it ({@link #addQueueWait()}) and then for its own, each bounded by the command
     * timeout; then the reply margin.
     */
    public Duration addReplyWait(boolean grouped) {
        return (grouped ? addQueueWait().plus(command) : command).plus(REPLY_MARGIN);
    }

    /** The default add deadline: three command timeouts, so a few re-sends each get their full timeout. */
    public Duration defaultAddDeadline() {
        return command.multipliedBy(3);
    }

    /**
     * How long after its creation an add's request may still be sent: the add deadline, then six
     * command timeouts for a caller that retries the same request after an unknown outcome.
     */
    public Duration sendWindow(Duration addDeadline) {
        return addDeadline.plus(command.multipliedBy(6));
    }

    /**
     * How long Redis remembers an add's request id: the send window plus two command timeouts, as a
     * send still in flight at the end of the window is applied within one (Lettuce drops it after).
     */
    public Duration requestMemory(Duration addDeadline) {
        return sendWindow(addDeadline).plus(command.multipliedBy(2));
    }

    /**
     * The longest pause between two sends of an add: half a command timeout at most, so a short
     * command timeout still gets several sends within its deadline.
     */
    public Duration longestResendPause() {
        return command.dividedBy(2);
    }

    /**
     * How long one replication WAIT may block: what was asked, cut to half the command timeout (and
     * at least 1 ms), so Redis answers it before Lettuce times the WAIT out itself.
     */
    public Duration fenceWait(Duration requested) {
        return Duration.ofMillis(Math.max(1, Math.min(requested.toMillis(), command.toMillis() / 2)));
    }

    /** How long an add waits for the reply of its WAIT: the WAIT's own block, then a command timeout for the reply. */
    public Duration fenceReplyWait(Duration fenceWait) {
        return fenceWait.plus(command);
    }

    /** How long an add waits for the first check of whether its master has replicas: one command. */
    public Duration replicaCheckWait() {
        return command;
    }

    /**
     * How long one BLPOP blocks: what was asked, cut to half the command timeout (and at least
     * 1 ms), so Redis answers before the client gives up on the command; a pop whose reply came
     * after that would have taken an element that no one receives.
     */
    public Duration blockingPopSlice(Duration wait) {
        return Duration.ofMillis(Math.max(1, Math.min(wait.toMillis(), command.toMillis() / 2)));
    }
}
