package dev.taskpool.client;

import dev.taskpool.core.model.TaskEvent;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The events of one subscription on their way to its listener. Lettuce's I/O thread only puts an
 * event here; the listener is called through the subscription's executor, one event at a time and
 * in the order Redis published them, so a slow or blocking listener holds up its own subscription
 * and nothing else (not the replies of other commands, not other subscriptions).
 *
 * <p>A listener that falls behind has at most {@link #MOST_EVENTS} events (and
 * {@link #MOST_CHARS} characters of event text) waiting for it; past that the oldest waiting event
 * is dropped, so memory stays bounded and the listener sees the latest state first when it
 * catches up. Drops are logged as a warning when they start and when the listener has caught up.
 */
final class ListenerQueue {
    private static final Logger log = LoggerFactory.getLogger(ListenerQueue.class);
    /** The most events that wait for one slow listener. */
    static final int MOST_EVENTS = 10_000;
    /** The most characters of event text that wait for one slow listener (about 32 MB). */
    static final long MOST_CHARS = 16L << 20;
    /** Events delivered in one go before the drain yields its thread (fair on a shared executor). */
    private static final int BURST = 256;

    private record Waiting(TaskEvent event, int chars) {
    }

    private final String source;
    private final Consumer<TaskEvent> listener;
    private final Executor executor;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private long waitingChars;
    /** Whether a drain is scheduled or running: at most one at a time, so events arrive in order. */
    private boolean draining;
    private boolean closed;
    /** Events dropped since the listener last caught up. */
    private long dropped;

    /** @param source the channel or pattern, for log messages */
    ListenerQueue(String source, Consumer<TaskEvent> listener, Executor executor) {
        this.source = source;
        this.listener = listener;
        this.executor = executor;
    }

    /** Queues {@code event} ({@code chars} long as published) and starts a drain when none is on. Never blocks. */
    void offer(TaskEvent event, int chars) {
        boolean startDrain;
        boolean firstDrop = false;
        synchronized (this) {
            if (closed) {
                return;
            }
            waiting.add(new Waiting(event, chars));
            waitingChars += chars;
            while (waiting.size() > MOST_EVENTS || (waitingChars > MOST_CHARS && waiting.size() > 1)) {
                waitingChars -= waiting.poll().chars();
                firstDrop |= dropped == 0;
                dropped++;
            }
            startDrain = !draining;
            draining = true;
        }
        if (firstDrop) {
            log.warn("the listener of {} is too slow: over {} events (or {} characters) wait for it; the oldest are"
                    + " dropped until it catches up", source, MOST_EVENTS, MOST_CHARS);
        }
        if (startDrain) {
            schedule();
        }
    }

    /** Stops the deliveries: events still waiting are dropped; a listener call under way finishes. */
    void close() {
        synchronized (this) {
            closed = true;
            waiting.clear();
            waitingChars = 0;
        }
    }

    private void schedule() {
        try {
            executor.execute(this::drain);
        } catch (RejectedExecutionException e) {
            synchronized (this) {
                draining = false;
            }
            log.warn("the executor of the listener of {} refused its events ({}); they wait for the next event",
                    source, e.getMessage());
        }
    }

    private void drain() {
        for (int delivered = 0; ; delivered++) {
            Waiting next;
            long caughtUpAfter = 0;
            boolean yieldThread = false;
            synchronized (this) {
                next = closed ? null : waiting.poll();
                if (next == null) {
                    draining = false;
                    caughtUpAfter = dropped;
                    dropped = 0;
                } else if (delivered == BURST) {
                    waiting.addFirst(next);   // others sharing the executor get a turn; this drain goes on later
                    next = null;
                    yieldThread = true;
                } else {
                    waitingChars -= next.chars();
                }
            }
            if (yieldThread) {
                schedule();
                return;
            }
            if (next == null) {
                if (caughtUpAfter > 0) {
                    log.warn("the listener of {} caught up; {} events were dropped while it was behind", source, caughtUpAfter);
                }
                return;
            }
            try {
                listener.accept(next.event());
            } catch (RuntimeException e) {
                log.warn("an event listener of {} failed: {}", source, e.getMessage(), e);
            }
        }
    }
}
