package dev.taskpool.core.connect;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link EventChannels}' own thread: it runs, in the order given, what Lettuce's I/O thread
 * reports, so that thread never waits for the EventChannels' lock (a thread holding it may be
 * handing Lettuce a command); and it heals, connecting and subscribing again, after a failure with
 * growing pauses (from 200 ms, doubled while retries fail, at most 5 s) and after a new connection
 * at once. Its pause and whether a heal is scheduled are guarded by the EventChannels' lock (the
 * {@code lock} given here), as the rest of that class's state is.
 */
final class Healer {
    private static final Logger log = LoggerFactory.getLogger(Healer.class);
    private static final Duration FIRST_RETRY = Duration.ofMillis(200);
    private static final Duration LONGEST_RETRY = Duration.ofSeconds(5);

    /** One daemon thread, idle unless something failed or the connection reported something. */
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("taskpool-resubscribe").factory());
    /** The EventChannels' monitor. */
    private final Object lock;
    private final BooleanSupplier closed;
    /** Connects if needed, then subscribes what Redis has not confirmed. */
    private final Runnable heal;
    private boolean healScheduled;
    private Duration retryPause = FIRST_RETRY;

    Healer(Object lock, BooleanSupplier closed, Runnable heal) {
        this.lock = lock;
        this.closed = closed;
        this.heal = heal;
    }

    /** Runs {@code step} on this thread, in the order given; nothing once the EventChannels are closed. */
    void run(Runnable step) {
        try {
            thread.execute(step);
        } catch (RuntimeException e) {
            log.debug("the event channels are closed: {}", e.getMessage());
        }
    }

    /** Runs {@code step} on this thread every {@code period}, the first time after one. */
    void every(Duration period, Runnable step) {
        thread.scheduleWithFixedDelay(step, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Heals: after a failure, once after the retry pause (which grows while retries fail) unless
     * one is scheduled; else (a new connection) at once.
     */
    void schedule(boolean afterFailure) {
        Duration pause = Duration.ZERO;
        synchronized (lock) {
            if (closed.getAsBoolean() || (afterFailure && healScheduled)) {
                return;
            }
            healScheduled = true;
            if (afterFailure) {
                pause = retryPause;
                retryPause = retryPause.multipliedBy(2).compareTo(LONGEST_RETRY) > 0 ? LONGEST_RETRY : retryPause.multipliedBy(2);
            }
        }
        try {
            thread.schedule(this::heal, pause.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            synchronized (lock) {
                healScheduled = false;   // closing
            }
        }
    }

    /** Redis confirmed a subscription: the next failure waits the shortest pause again. Called under the lock. */
    void resetPause() {
        retryPause = FIRST_RETRY;
    }

    private void heal() {
        synchronized (lock) {
            healScheduled = false;
        }
        heal.run();
    }

    /** Stops the thread: what is scheduled does not run, and nothing more is. */
    void shutdown() {
        thread.shutdownNow();
    }
}
