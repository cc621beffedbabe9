package dev.taskpool.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.redis.AclRefusal;
import dev.taskpool.core.redis.Keys;
import dev.taskpool.core.redis.RedisConnector;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's one pub/sub subscription (the task event channels and the control channels of
 * every kind), fanned out to the connected browsers. Each browser has a bounded queue: a browser
 * that cannot keep up loses events and is told to reload its data, it never slows the others or
 * the subscription down.
 */
final class EventFanout implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventFanout.class);
    /** Events one browser may fall behind by before it is told to reload instead. */
    static final int QUEUE_CAPACITY = 2048;

    /**
     * One event as a browser gets it: its SSE event name ("task" or "control"), the kind and task
     * it concerns, what happened (the message's "event", e.g. "progress"), and the JSON.
     */
    record Event(String name, String task, long id, String what, String json) {
        static final Event OVERFLOW = new Event("reload", null, 0, "", "{\"reason\":\"events were dropped: this page fell behind\"}");
        static final Event CLOSED = new Event("closed", null, 0, "", "{}");

        boolean progress() {
            return name.equals("task") && what.equals(TaskEvent.PROGRESS);
        }
    }

    /** One connected browser: what it wants to see, and what it has not been sent yet. */
    static final class Listener {
        private final String task;
        private final Long id;
        private final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
        private volatile boolean overflowed;

        Listener(String task, Long id) {
            this.task = task;
            this.id = id;
        }

        boolean wants(Event event) {
            if (task == null) {
                // pages of every kind count and refresh; progress changes no count, and is the bulk of the events
                return !event.progress();
            }
            if (!task.equals(event.task())) {
                return false;
            }
            // control events (pause, resume...) concern the whole kind: a task page shows them too
            return id == null || event.name().equals("control") || id == event.id();
        }

        void offer(Event event) {
            if (overflowed) {
                return;
            }
            if (!queue.offer(event)) {
                overflowed = true;
                queue.clear();
                queue.offer(Event.OVERFLOW);
            }
        }

        /** The next event, or null when none came within the wait (time for a keep-alive). */
        Event next(long waitMillis) throws InterruptedException {
            Event event = queue.poll(waitMillis, TimeUnit.MILLISECONDS);
            if (event == Event.OVERFLOW) {
                overflowed = false;
            }
            return event;
        }
    }

    private final StatefulRedisPubSubConnection<String, String> connection;
    private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();

    EventFanout(RedisConnector redis) {
        connection = redis.newPubSubConnection();
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String pattern, String channel, String message) {
                deliver(channel, message);
            }
        });
        // returns once Redis confirmed: a page that connects after this sees every later event
        for (String pattern : List.of(Keys.allEventsPattern(), Keys.allControlPattern())) {
            try {
                connection.sync().psubscribe(pattern);
            } catch (RuntimeException e) {
                connection.close();
                throw AclRefusal.ofSubscription(e, redis.user(), pattern);
            }
        }
    }

    Listener listen(String task, Long id) {
        Listener listener = new Listener(task, id);
        listeners.add(listener);
        return listener;
    }

    void stopListening(Listener listener) {
        listeners.remove(listener);
    }

    int listenerCount() {
        return listeners.size();
    }

    private void deliver(String channel, String message) {
        if (listeners.isEmpty()) {
            return;
        }
        Event event = parse(channel, message);
        if (event == null) {
            return;
        }
        for (Listener listener : listeners) {
            if (listener.wants(event)) {
                listener.offer(event);
            }
        }
    }

    /** A message as a browser event: task events are "task", kind-level ones "control"; the kind is always in it. */
    static Event parse(String channel, String message) {
        String kind = Keys.kindOfChannel(channel);
        if (kind == null) {
            return null;
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(message);
        } catch (Exception e) {
            log.warn("ignoring a malformed message on {}: {}", channel, message);
            return null;
        }
        if (!(node instanceof ObjectNode object)) {
            log.warn("ignoring a message that is no JSON object on {}: {}", channel, message);
            return null;
        }
        boolean control = channel.endsWith(":control");
        if (!object.hasNonNull("task")) {
            object.put("task", kind);
        }
        long id = object.path("id").asLong(0);
        if (!control && !object.has("id")) {
            String suffix = channel.substring(channel.lastIndexOf(':') + 1);
            try {
                id = Long.parseLong(suffix);
                object.put("id", id);
            } catch (NumberFormatException ignored) {
                // an event without an id stays as it is
            }
        }
        return new Event(control ? "control" : "task", kind, id, object.path("event").asText(""), object.toString());
    }

    @Override
    public void close() {
        for (Listener listener : listeners) {
            listener.queue.clear();
            listener.queue.offer(Event.CLOSED);
        }
        connection.close();
    }
}
