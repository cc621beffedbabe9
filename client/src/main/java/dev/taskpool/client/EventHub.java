package dev.taskpool.client;

import dev.taskpool.core.connect.EventChannels;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.connect.RedisConnector;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's task events: its subscriptions on one {@link EventChannels} (one pub/sub connection,
 * confirmed subscribes, subscriptions that heal themselves after a cut), each message parsed as a
 * {@link TaskEvent}.
 *
 * <p>The connection's I/O thread only parses a message and queues it (see {@link ListenerQueue});
 * listeners run on the client's own virtual threads or on an executor the caller gave.
 */
final class EventHub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventHub.class);

    private final EventChannels channels;
    /** Where listeners run unless their subscription names an executor: a virtual thread per drain. */
    private final ExecutorService deliveries = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("taskpool-events-", 0).factory());
    /** The queues of the open subscriptions: closing the hub empties them, whichever executor drains them. */
    private final Set<ListenerQueue> queues = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    EventHub(RedisConnector redis) {
        this.channels = new EventChannels(redis);
    }

    /** Delivers the events of {@code channel} to {@code listener} through {@code executor} (null: the hub's virtual threads). */
    Subscription subscribe(String channel, Consumer<TaskEvent> listener, Executor executor) {
        ListenerQueue queue = queue(channel, listener, executor);
        try {
            return subscription(queue, channels.subscribe(channel, (ignored, message) -> deliver(queue, message)));
        } catch (RuntimeException e) {
            closeQueue(queue);
            throw e;
        }
    }

    /** As {@link #subscribe}, for every channel matching {@code pattern}. */
    Subscription psubscribe(String pattern, Consumer<TaskEvent> listener, Executor executor) {
        ListenerQueue queue = queue(pattern, listener, executor);
        try {
            return subscription(queue, channels.psubscribe(pattern, (ignored, message) -> deliver(queue, message)));
        } catch (RuntimeException e) {
            closeQueue(queue);
            throw e;
        }
    }

    /**
     * As {@link #psubscribe(String, Consumer, Executor)}, for every channel matching any of
     * {@code patterns} (a partitioned kind's), through one queue: one listener, one event at a
     * time. When one pattern is refused, those subscribed before it are closed again.
     */
    Subscription psubscribe(List<String> patterns, Consumer<TaskEvent> listener, Executor executor) {
        if (patterns.size() == 1) {
            return psubscribe(patterns.getFirst(), listener, executor);
        }
        ListenerQueue queue = queue(String.join(" ", patterns), listener, executor);
        List<EventChannels.Subscription> subscribed = new ArrayList<>();
        try {
            for (String pattern : patterns) {
                subscribed.add(channels.psubscribe(pattern, (ignored, message) -> deliver(queue, message)));
            }
        } catch (RuntimeException e) {
            closeQueue(queue);
            subscribed.forEach(EventChannels.Subscription::close);
            throw e;
        }
        return () -> {
            closeQueue(queue);
            subscribed.forEach(EventChannels.Subscription::close);
        };
    }

    private ListenerQueue queue(String source, Consumer<TaskEvent> listener, Executor executor) {
        if (closed) {
            throw new IllegalStateException("the client is closed: no subscription to " + source);
        }
        ListenerQueue queue = new ListenerQueue(source, listener, executor == null ? deliveries : executor);
        queues.add(queue);
        return queue;
    }

    private void closeQueue(ListenerQueue queue) {
        queue.close();
        queues.remove(queue);
    }

    private Subscription subscription(ListenerQueue queue, EventChannels.Subscription subscribed) {
        return () -> {
            closeQueue(queue);
            subscribed.close();
        };
    }

    private static void deliver(ListenerQueue queue, String message) {
        TaskEvent event;
        try {
            event = TaskEvent.parse(message);
        } catch (RuntimeException e) {
            log.warn("ignoring a malformed event message: {}", message);
            return;
        }
        queue.offer(event, message.length());
    }

    /** Closes the connection, stops retrying, and interrupts listeners still running on the hub's threads. */
    @Override
    public void close() {
        closed = true;
        channels.close();
        queues.forEach(ListenerQueue::close);
        queues.clear();
        deliveries.shutdownNow();
    }
}
