package dev.taskpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The events {@code watch} has received and not printed yet, at most {@code capacity} of them
 * and at most {@link #MOST_CHARS} characters of their messages (a success event carries the whole
 * response, up to the worker's result limit of 1 MiB, so a count alone could hold gigabytes).
 * The client's I/O thread adds them and must never wait; a watch printing to a slow terminal (or
 * paused with Ctrl-S) falls behind a busy pool. When full, the oldest progress event goes first
 * (a later one of the same task says more), then the oldest other event that does not end a task;
 * events that end a task are dropped only when nothing else is left. What was dropped is counted,
 * for the watch to say so.
 */
final class EventQueue {
    /** The most characters of messages held, whatever their number. */
    static final long MOST_CHARS = 16L << 20;

    private final int capacity;
    private final long mostChars;
    private final ArrayDeque<Queued> events = new ArrayDeque<>();
    private long chars;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private long dropped;

    EventQueue(int capacity, long mostChars) {
        if (capacity < 1) {
            throw new IllegalArgumentException("an event queue holds at least 1 event, got " + capacity);
        }
        this.capacity = capacity;
        this.mostChars = mostChars;
    }

    EventQueue(int capacity) {
        this(capacity, MOST_CHARS);
    }

    /** An event and the length of the message it came as. */
    private record Queued(JsonNode event, int chars) {
    }

    /** Adds a message as received (a message that is not JSON is kept as an "unreadable" event). */
    void add(String message) {
        Queued event = new Queued(parse(message), message.length());
        lock.lock();
        try {
            while (!events.isEmpty() && (events.size() >= capacity || chars + event.chars() > mostChars)) {
                dropOne();
            }
            events.addLast(event);
            chars += event.chars();
            arrived.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The oldest event, waiting up to {@code nanos} for one; null when none came. */
    JsonNode poll(long nanos) throws InterruptedException {
        lock.lock();
        try {
            long left = nanos;
            while (events.isEmpty()) {
                if (left <= 0) {
                    return null;
                }
                left = arrived.awaitNanos(left);
            }
            Queued first = events.pollFirst();
            chars -= first.chars();
            return first.event();
        } finally {
            lock.unlock();
        }
    }

    /** How many events were dropped since the last call (and starts counting again). */
    long takeDropped() {
        lock.lock();
        try {
            long count = dropped;
            dropped = 0;
            return count;
        } finally {
            lock.unlock();
        }
    }

    private void dropOne() {
        if (!removeFirst(true) && !removeFirst(false)) {
            chars -= events.pollFirst().chars();
        }
        dropped++;
    }

    /** Removes the oldest progress event ({@code progressOnly}), or the oldest one not ending a task. */
    private boolean removeFirst(boolean progressOnly) {
        for (Iterator<Queued> it = events.iterator(); it.hasNext(); ) {
            Queued queued = it.next();
            String name = queued.event().path("event").asText();
            if (progressOnly ? name.equals(TaskEvent.PROGRESS) : !endsTask(name)) {
                it.remove();
                chars -= queued.chars();
                return true;
            }
        }
        return false;
    }

    static boolean endsTask(String event) {
        return event.equals(TaskEvent.SUCCESS) || event.equals(TaskEvent.FAILURE) || event.equals(TaskEvent.CANCELED)
                || event.equals(TaskEvent.DELETED);
    }

    private static JsonNode parse(String message) {
        try {
            JsonNode event = Json.read(message, "event message");
            if (event.isObject()) {
                return event;
            }
        } catch (RuntimeException e) {
            // shown as it came, below
        }
        ObjectNode unreadable = Json.NODES.objectNode();
        unreadable.put("event", "unreadable");
        unreadable.put("text", message);
        return unreadable;
    }
}
