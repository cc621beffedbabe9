package dev.taskpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.model.TaskEvent;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps what {@code watch} draws moving forward. Events of one task can reach the watch out of
 * order (two progress calls in flight at once, a progress published just before the task's end
 * arrives after it): a bar drawn at 20/20 must not go back to 18/20, and a finished task must not
 * turn RUNNING again on a late progress. Per task, the highest progress of its current run is
 * remembered, and whether it ended; a new run (started, retry, requeued, resubmitted) starts over.
 */
final class ProgressOrder {
    /** How many tasks are remembered; the least recently seen are forgotten first. */
    private static final int REMEMBERED = 10_000;

    /** The latest progress event drawn for a task's run (null before one), or that the task ended. */
    private record State(JsonNode progress, boolean ended) {
    }

    private final Map<String, State> tasks = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, State> eldest) {
            return size() > REMEMBERED;
        }
    };

    /** Whether {@code event} is to be shown: false for a progress that would move a bar back or revive a finished task. */
    boolean accept(JsonNode event) {
        String name = event.path("event").asText();
        String key = key(event.path("task").asText(), event.path("id").asLong());
        switch (name) {
            case TaskEvent.PROGRESS -> {
                State state = tasks.get(key);
                if (state != null && (state.ended()
                        || (state.progress() != null && current(event) < current(state.progress())))) {
                    return false;
                }
                tasks.put(key, new State(event, false));
                return true;
            }
            case TaskEvent.STARTED, TaskEvent.RETRY, TaskEvent.REQUEUED, TaskEvent.RESUBMITTED, TaskEvent.ADDED -> {
                tasks.put(key, new State(null, false));
                return true;
            }
            default -> {
                if (EventQueue.endsTask(name)) {
                    tasks.put(key, new State(null, true));
                }
                return true;
            }
        }
    }

    /** Whether an event said the task ended (after which a read that still lists it RUNNING is older). */
    boolean ended(String task, long id) {
        State state = tasks.get(key(task, id));
        return state != null && state.ended();
    }

    /** The latest progress event shown for the task's current run, or null. */
    JsonNode progress(String task, long id) {
        State state = tasks.get(key(task, id));
        return state == null ? null : state.progress();
    }

    private static long current(JsonNode progress) {
        return progress.path("current").asLong();
    }

    private static String key(String task, long id) {
        return task + "#" + id;
    }
}
