package dev.taskpool.worker.exec;

import dev.taskpool.core.Durations;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * A warning that repeats (the same failure of the same step, e.g. every heartbeat while Redis is
 * full) is logged once per interval, not once per task or per attempt: the first line right away,
 * then one line per interval saying how many were left out; and one line when the step works again.
 * A different cause (another Redis error) is logged at once.
 */
public final class RateLimitedLog {
    /** How often the worker's repeating failures (heartbeat, recovery, presence) are logged again. */
    public static final Duration INTERVAL = Duration.ofSeconds(30);

    private final Logger log;
    private final String step;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    private static final class Window {
        long loggedAt;
        long suppressed;
        long total;
    }

    /** @param step what fails, as the log line names it (e.g. "heartbeat") */
    public RateLimitedLog(Logger log, String step, Duration interval) {
        this(log, step, interval, System::nanoTime);
    }

    RateLimitedLog(Logger log, String step, Duration interval, LongSupplier nanoClock) {
        this.log = log;
        this.step = step;
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * Logs that the step failed ({@code context}: where, e.g. the task; {@code error}: why) unless
     * the same cause was logged within the interval. Returns whether a line was written.
     */
    public boolean failed(String context, Throwable error) {
        String cause = cause(error);
        long now = nanoClock.getAsLong();
        Window window = windows.computeIfAbsent(cause, c -> new Window());
        long suppressed;
        long total;
        synchronized (window) {
            window.total++;
            if (window.total > 1 && now - window.loggedAt < intervalNanos) {
                window.suppressed++;
                return false;
            }
            suppressed = window.suppressed;
            total = window.total;
            window.suppressed = 0;
            window.loggedAt = now;
        }
        String message = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
        if (cause.contains("OOM command not allowed")) {
            message = "Redis is full (used memory > maxmemory, so Redis refuses writes that need memory; queued work"
                    + " still drains, adds are refused): " + message;
        }
        if (total == 1) {
            log.warn("{} failed ({}): {}; will try again (the same failure is logged once per {})", step, context,
                    message, Durations.text(Duration.ofNanos(intervalNanos)));
        } else {
            log.warn("{} still failing ({}): {}; {} more failure(s) of this kind since the last line", step, context,
                    message, suppressed);
        }
        return true;
    }

    /** The step worked: if it had been failing, says so once. */
    public void succeeded() {
        if (windows.isEmpty()) {
            return;
        }
        long failures = 0;
        for (String cause : windows.keySet()) {
            Window window = windows.remove(cause);
            if (window != null) {
                synchronized (window) {
                    failures += window.total;
                }
            }
        }
        if (failures > 0) {
            log.info("{} works again after {} failure(s)", step, failures);
        }
    }

    /** What tells one failure from another: the deepest message (Redis' own error), without numbers that vary. */
    static String cause(Throwable error) {
        Throwable root = error;
        // A cause chain may loop (A caused by B caused by A): stop at the first cause seen before.
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.add(root);
        while (root.getCause() != null && seen.add(root.getCause())) {
            root = root.getCause();
        }
        String text = root.getMessage() == null ? root.getClass().getName() : root.getClass().getName() + ": " + root.getMessage();
        return text.replaceAll("\\d+", "#");
    }
}
