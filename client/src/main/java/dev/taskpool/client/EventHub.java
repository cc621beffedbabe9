package dev.taskpool.client;

import dev.taskpool.core.model.TaskEvent;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pub/sub connection shared by every subscription of a client. Redis is subscribed to a
 * channel (or pattern) while at least one listener wants it; SUBSCRIBE returns only once Redis
 * has confirmed it, so a caller that then reads the task hash cannot miss a later event.
 */
final class EventHub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventHub.class);

    private final StatefulRedisPubSubConnection<String, String> connection;
    private final Map<String, List<Consumer<TaskEvent>>> channels = new ConcurrentHashMap<>();
    private final Map<String, List<Consumer<TaskEvent>>> patterns = new ConcurrentHashMap<>();

    EventHub(StatefulRedisPubSubConnection<String, String> connection) {
        this.connection = connection;
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                deliver(channels.get(channel), message);
            }

            @Override
            public void message(String pattern, String channel, String message) {
                deliver(patterns.get(pattern), message);
            }
        });
    }

    synchronized Subscription subscribe(String channel, Consumer<TaskEvent> listener) {
        List<Consumer<TaskEvent>> listeners = channels.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>());
        listeners.add(listener);
        if (listeners.size() == 1) {
            connection.sync().subscribe(channel);
        }
        return () -> unsubscribe(channels, channel, listener, false);
    }

    synchronized Subscription psubscribe(String pattern, Consumer<TaskEvent> listener) {
        List<Consumer<TaskEvent>> listeners = patterns.computeIfAbsent(pattern, c -> new CopyOnWriteArrayList<>());
        listeners.add(listener);
        if (listeners.size() == 1) {
            connection.sync().psubscribe(pattern);
        }
        return () -> unsubscribe(patterns, pattern, listener, true);
    }

    private synchronized void unsubscribe(Map<String, List<Consumer<TaskEvent>>> registry, String name,
                                          Consumer<TaskEvent> listener, boolean pattern) {
        List<Consumer<TaskEvent>> listeners = registry.get(name);
        if (listeners == null || !listeners.remove(listener) || !listeners.isEmpty()) {
            return;
        }
        registry.remove(name);
        try {
            if (pattern) {
                connection.async().punsubscribe(name);
            } else {
                connection.async().unsubscribe(name);
            }
        } catch (RuntimeException e) {
            log.debug("unsubscribe from {} failed: {}", name, e.getMessage());
        }
    }

    private static void deliver(List<Consumer<TaskEvent>> listeners, String message) {
        if (listeners == null || listeners.isEmpty()) {
            return;
        }
        TaskEvent event;
        try {
            event = TaskEvent.parse(message);
        } catch (RuntimeException e) {
            log.warn("ignoring a malformed event message: {}", message);
            return;
        }
        for (Consumer<TaskEvent> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                log.warn("an event listener failed: {}", e.getMessage(), e);
            }
        }
    }

    @Override
    public void close() {
        connection.close();
    }
}
