package dev.taskpool.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.ops.EveryKindEvents;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's one pub/sub subscription (the task event channels and the control channels of
 * every kind), fanned out to the connected browsers. Each browser has a queue bounded in events and
 * in bytes: a browser that cannot keep up loses events and is told to reload its data, it never
 * slows the others or the subscription down, and never holds more than {@link #QUEUE_BYTE_BUDGET}.
 *
 * <p>Events go to browsers trimmed ({@link #parse}): a success event names the size of its response
 * instead of carrying it (a response may be megabytes, and every page that shows one fetches the
 * task anyway), and long texts are cut. A browser event is therefore a few KB at most.
 */
final class EventFanout implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventFanout.class);
    /** Events one browser may fall behind by before it is told to reload instead. */
    static final int QUEUE_CAPACITY = 2048;
    /** Bytes of events (their JSON) one browser may have waiting before it is told to reload instead. */
    static final long QUEUE_BYTE_BUDGET = 4L * 1024 * 1024;
    /** Characters of one text field (an error, a progress message) an event carries to a browser. */
    static final int TEXT_LIMIT = 2000;
    /** Bytes of one event past which only its identifying fields are sent. */
    static final int EVENT_LIMIT = 16 * 1024;
    /** The fields kept when an event is cut down to what identifies it (the page fetches the rest). */
    private static final List<String> IDENTIFYING = List.of("event", "task", "id", "status", "attempt", "at", "by", "worker");

    /**
     * One event as a browser gets it: its SSE event name ("task" or "control"), the kind and task
     * it concerns, what happened (the message's "event", e.g. "progress"), and the JSON.
     */
    record Event(String name, String task, long id, String what, String json, int bytes) {
        Event(String name, String task, long id, String what, String json) {
            this(name, task, id, what, json, json.getBytes(StandardCharsets.UTF_8).length);
        }

        // markers, not counted in a browser's queued bytes (0)
        static final Event OVERFLOW = new Event("reload", null, 0, "", "{\"reason\":\"events were dropped: this page fell behind\"}", 0);
        static final Event CLOSED = new Event("closed", null, 0, "", "{}", 0);

        boolean progress() {
            return name.equals("task") && what.equals(TaskEvent.PROGRESS);
        }
    }

    /** One connected browser: what it wants to see, and what it has not been sent yet. */
    static final class Listener {
        private final String task;
        private final Long id;
        private final long byteBudget;
        private final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
        /** The bytes of the events in {@link #queue}: each event adds its own when queued and takes them off when removed. */
        private final AtomicLong queuedBytes = new AtomicLong();
        private volatile boolean overflowed;

        Listener(String task, Long id) {
            this(task, id, QUEUE_BYTE_BUDGET);
        }

        Listener(String task, Long id, long byteBudget) {
            this.task = task;
            this.id = id;
            this.byteBudget = byteBudget;
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

        /** Queues an event, or (too many, or too many bytes, waiting already) drops them all for one "reload". */
        void offer(Event event) {
            if (overflowed) {
                return;
            }
            if (queuedBytes.get() + event.bytes() > byteBudget) {
                overflow();
                return;
            }
            queuedBytes.addAndGet(event.bytes());
            if (!queue.offer(event)) {
                queuedBytes.addAndGet(-event.bytes());
                overflow();
            }
        }

        private void overflow() {
            overflowed = true;
            discardQueued();
            queue.offer(Event.OVERFLOW);
        }

        private void discardQueued() {
            Event dropped;
            while ((dropped = queue.poll()) != null) {
                queuedBytes.addAndGet(-dropped.bytes());
            }
        }

        /** The next event, or null when none came within the wait (time for a keep-alive). */
        Event next(long waitMillis) throws InterruptedException {
            Event event = queue.poll(waitMillis, TimeUnit.MILLISECONDS);
            if (event == Event.OVERFLOW) {
                overflowed = false;
            }
            if (event != null) {
                queuedBytes.addAndGet(-event.bytes());
            }
            return event;
        }

        /** The bytes of the events waiting to be written to this browser. */
        long queuedBytes() {
            return queuedBytes.get();
        }

        void closed() {
            discardQueued();
            queue.offer(Event.CLOSED);
        }
    }

    private final EveryKindEvents events;
    private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();

    EventFanout(RedisConnector redis) {
        // returns once Redis confirmed (or, when it does not answer, after the command timeout, and
        // subscribes when it is back): a page that connects after this sees every later event;
        // deliver runs on the I/O thread, and only queues (each browser's queue is bounded)
        events = EveryKindEvents.follow(redis, (kind, channel, message) -> deliver(channel, message));
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

    /** The most bytes of events waiting for one browser: each browser's queue has its own budget. */
    long mostQueuedBytesOfOneListener() {
        return listeners.stream().mapToLong(Listener::queuedBytes).max().orElse(0);
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
        String kind = EveryKindEvents.kindOf(channel);
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
        boolean control = EveryKindEvents.isControl(channel);
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
        return new Event(control ? "control" : "task", kind, id, object.path("event").asText(""), trimmed(object));
    }

    /**
     * The event as a browser gets it: a response is replaced by its size ({@code responseBytes}),
     * texts longer than {@link #TEXT_LIMIT} are cut (and say so), and an event still longer than
     * {@link #EVENT_LIMIT} keeps only its {@link #IDENTIFYING} fields and {@code "trimmed": true}.
     */
    static String trimmed(ObjectNode event) {
        JsonNode response = event.remove("response");
        if (response != null) {
            event.put("responseBytes", response.toString().getBytes(StandardCharsets.UTF_8).length);
        }
        for (Map.Entry<String, JsonNode> field : event.properties()) {
            String text = field.getValue().isTextual() ? field.getValue().textValue() : null;
            if (text != null && text.length() > TEXT_LIMIT) {
                field.setValue(TextNode.valueOf(text.substring(0, TEXT_LIMIT)
                        + "… (" + text.length() + " characters; the task has all of it)"));
            }
        }
        String json = event.toString();
        if (json.length() <= EVENT_LIMIT) {
            return json;
        }
        ObjectNode identifying = Json.NODES.objectNode();
        for (String name : IDENTIFYING) {
            JsonNode value = event.get(name);
            if (value != null && value.isValueNode()) {
                identifying.set(name, value);
            }
        }
        identifying.put("trimmed", true);
        return identifying.toString();
    }

    @Override
    public void close() {
        for (Listener listener : listeners) {
            listener.closed();
        }
        events.close();
    }
}
