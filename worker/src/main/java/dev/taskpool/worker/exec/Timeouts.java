package dev.taskpool.worker.exec;

import dev.taskpool.core.Durations;
import dev.taskpool.core.connect.RedisTimeouts;
import java.time.Duration;
import java.util.function.BiFunction;

/**
 * A worker's waits and limits, derived from the Redis command timeout ({@link RedisTimeouts}) and
 * the worker's lease and heartbeat ({@link WorkerSettings}), and the checks that refuse, at
 * start-up, settings that cannot work.
 *
 * <p>How they relate, for a lease {@code L}, a heartbeat interval {@code H} and a reply wait
 * {@code R} (the command timeout and a second):
 * <ul>
 *   <li>{@code H < L} is required: a lease that lapses before the next beat extends it hands every
 *       running task to another worker;</li>
 *   <li>a beat sends each kind's extension and waits for it at most {@link #heartbeatWait()} =
 *       {@code min(R, L - H)}; a kind gets its next extension only once its last one is answered
 *       or given up, so giving up by {@code L - H} after the send means the next beat, at most
 *       {@code H} later, sends a new extension before the lease set by the last one can lapse.
 *       {@code R} is longer than {@code L - H} with the defaults (11 s against 7 s) and with the
 *       short leases tests use (2 s with a 400 ms heartbeat), so the wait is clamped, not refused:
 *       an extension given up on may still be applied, and the next one simply sets a later
 *       deadline;</li>
 *   <li>the worker's presence is written on each beat and its record lives {@link #presenceRecordLife()}
 *       = {@code 3 L}, so a few missed beats do not hide a live worker;</li>
 *   <li>a round trip of the pump and the presence write wait {@link #replyWait()} = {@code R};</li>
 *   <li>a stopped run's script gets {@link #INTERRUPT_LIMIT} to notice its interrupt, and the run
 *       {@code --abandon-after} before its thread is abandoned; the two are independent (a short
 *       abandon wait, as tests use, abandons the thread while its script is still being stopped).</li>
 * </ul>
 */
public final class Timeouts {
    /** How long a stopped script may take to notice its interrupt before its context is closed. */
    static final Duration INTERRUPT_LIMIT = Duration.ofSeconds(2);
    /** How long a graceful stop waits for Redis to take back the runs it hands back. */
    static final Duration HAND_BACK_WAIT = Duration.ofSeconds(5);
    /** How long a stopping worker's pump gets to record the results still waiting, before it stops. */
    static final Duration LAST_RECORDS_WAIT = Duration.ofSeconds(5);
    /** How long a stopping kind waits for its idle waiter (already interrupted, its connection closed) to leave. */
    static final Duration WAITER_EXIT_WAIT = Duration.ofSeconds(2);

    private final RedisTimeouts redis;
    private final WorkerSettings settings;

    Timeouts(RedisTimeouts redis, WorkerSettings settings) {
        this.redis = redis;
        this.settings = settings;
    }

    /** How long a presence write waits for Redis: a reply wait (the pump waits the same, {@code RedisTimeouts.replyWait}). */
    Duration replyWait() {
        return redis.replyWait();
    }

    /**
     * How long a beat's extension of one kind's leases is waited for: a reply wait, cut to the
     * lease minus the heartbeat interval, so that the next extension goes out before the last one
     * could lapse.
     */
    Duration heartbeatWait() {
        Duration margin = settings.lease().minus(settings.heartbeatInterval());
        return redis.replyWait().compareTo(margin) <= 0 ? redis.replyWait() : margin;
    }

    /** A worker's presence record lives three leases past its last beat. */
    Duration presenceRecordLife() {
        return settings.lease().multipliedBy(3);
    }

    /** What the checks call each setting: the command line's option names, or the settings' own. */
    public record Names(String lease, String heartbeat, String recover, String grace, String abandonAfter,
                        String idleBlock, BiFunction<String, Duration, String> spelling) {
        /** Names whose values are written as {@link Durations#text} writes them. */
        public Names(String lease, String heartbeat, String recover, String grace, String abandonAfter, String idleBlock) {
            this(lease, heartbeat, recover, grace, abandonAfter, idleBlock, (name, value) -> Durations.text(value));
        }

        /** The value of the setting {@code name} as the user wrote it (e.g. {@code 12000ms}, not {@code 12s}). */
        String spelled(String name, Duration value) {
            return spelling.apply(name, value);
        }

        /** The names of {@link WorkerSettings}' components, for a worker set up in code. */
        public static final Names SETTINGS = new Names("the lease", "the heartbeat interval", "the recover interval",
                "the shutdown grace", "the abandon wait", "the idle block");
    }

    /**
     * Refuses what cannot work, naming the settings as the user wrote them: a heartbeat that does
     * not come before the lease lapses, a period of zero (a timer cannot run at it), a negative
     * wait. Everything else is allowed, even if short (see the class comment for the heartbeat wait).
     *
     * @throws IllegalArgumentException saying which setting is wrong, with its value
     */
    public static void requireWorkable(Duration lease, Duration heartbeat, Duration recover, Duration grace,
                                       Duration abandonAfter, Duration idleBlock, Names names) {
        requirePositive(heartbeat, names.heartbeat(), names);
        if (heartbeat.compareTo(lease) >= 0) {
            throw new IllegalArgumentException(names.heartbeat() + " " + names.spelled(names.heartbeat(), heartbeat)
                    + " must be shorter than " + names.lease() + " " + names.spelled(names.lease(), lease));
        }
        requirePositive(recover, names.recover(), names);
        requirePositive(idleBlock, names.idleBlock(), names);
        requireNotNegative(grace, names.grace(), names);
        requireNotNegative(abandonAfter, names.abandonAfter(), names);
    }

    private static void requirePositive(Duration value, String name, Names names) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be longer than 0, got " + names.spelled(name, value));
        }
    }

    private static void requireNotNegative(Duration value, String name, Names names) {
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, got " + names.spelled(name, value));
        }
    }
}
