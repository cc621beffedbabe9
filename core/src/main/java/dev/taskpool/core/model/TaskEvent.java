package dev.taskpool.core.model;

import static java.util.Map.entry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One transition of one task, as published on {@code taskpool:{task}:events:<id>}:
 * {@code {"event":"added|started|progress|retry|requeued|success|failure","task":..,"id":..,...}}, and
 * the operators' {@code canceled} (the task is now FAILURE), {@code resubmitted} (FAILURE back to
 * WAITING), {@code promoted} (a delayed task run now) and {@code deleted}.
 *
 * <p>This class is the one list of the fields each event type carries ({@link #TASK_EVENTS}, and
 * {@link #CONTROL_EVENTS} for the messages on a kind's control channel). Some events are built in
 * Java (the factories below), the others in Lua ({@code _events.lua}, where building them as text
 * saves the hot path an encoder); EventSchemaTest runs the real scripts, captures what they
 * publish, and checks both sides against these lists.
 */
public record TaskEvent(String event, String task, long id, JsonNode message) {
    public static final String ADDED = "added";
    public static final String STARTED = "started";
    public static final String PROGRESS = "progress";
    public static final String RETRY = "retry";
    public static final String REQUEUED = "requeued";
    public static final String SUCCESS = "success";
    public static final String FAILURE = "failure";
    /** An operator canceled the task: it is FAILURE now (fields status, error, by). */
    public static final String CANCELED = "canceled";
    /** An operator retried a FAILURE task: it is WAITING again (field by). */
    public static final String RESUBMITTED = "resubmitted";
    /** An operator deleted the finished task. */
    public static final String DELETED = "deleted";
    /** An operator ran a delayed task now: it left the delayed set for the front of the queue (fields status, by). */
    public static final String PROMOTED = "promoted";
    /** Control channel: the workers stop the run holding the lease named (an operator canceled it). */
    public static final String CANCEL = "cancel";
    /** Control channel: an operator paused the kind (its queue gives nothing until resumed). */
    public static final String PAUSED = "paused";
    /** Control channel: an operator resumed the kind. */
    public static final String RESUMED = "resumed";

    /** The JSON type of an event field. */
    public enum FieldType {
        TEXT, INTEGER, TEXT_OR_NULL, ANY_JSON;

        public boolean admits(JsonNode value) {
            return switch (this) {
                case TEXT -> value.isTextual();
                case INTEGER -> value.isIntegralNumber();
                case TEXT_OR_NULL -> value.isTextual() || value.isNull();
                case ANY_JSON -> true;
            };
        }
    }

    /** A field of an event message: its name, its JSON type, and whether every message of its type has it. */
    public record Field(String name, FieldType type, boolean always) {
    }

    private static final Field EVENT = new Field("event", FieldType.TEXT, true);
    private static final Field TASK = new Field("task", FieldType.TEXT, true);
    private static final Field ID = new Field("id", FieldType.INTEGER, true);
    private static final Field AT = new Field("at", FieldType.INTEGER, true);
    private static final Field STATUS = new Field("status", FieldType.TEXT, true);
    private static final Field ATTEMPT = new Field("attempt", FieldType.INTEGER, true);
    private static final Field ERROR = new Field("error", FieldType.TEXT, true);
    /** Who did it: null when the operator gave no name. */
    private static final Field BY = new Field("by", FieldType.TEXT_OR_NULL, true);

    /** The fields of each event on a task's channel, by event type: event, task, id and at, then the type's own. */
    public static final Map<String, List<Field>> TASK_EVENTS = Map.ofEntries(
            // due_at (epoch ms, Redis' clock) only for a task added to start later.
            entry(ADDED, taskEvent(STATUS, new Field("due_at", FieldType.INTEGER, false))),
            entry(STARTED, taskEvent(STATUS, ATTEMPT, new Field("worker", FieldType.TEXT, true))),
            entry(PROGRESS, taskEvent(new Field("current", FieldType.INTEGER, true), new Field("total", FieldType.INTEGER, true),
                    new Field("message", FieldType.TEXT, true))),
            entry(RETRY, taskEvent(STATUS, ATTEMPT, ERROR)),
            entry(REQUEUED, taskEvent(STATUS)),
            entry(SUCCESS, taskEvent(STATUS, ATTEMPT, new Field("response", FieldType.ANY_JSON, true))),
            // No attempt when a task hash holding garbage (it never ran) ends in FAILURE at a fetch.
            entry(FAILURE, taskEvent(STATUS, new Field("attempt", FieldType.INTEGER, false), ERROR)),
            entry(CANCELED, taskEvent(STATUS, ERROR, BY)),
            entry(RESUBMITTED, taskEvent(STATUS, BY)),
            entry(PROMOTED, taskEvent(STATUS, BY)),
            entry(DELETED, taskEvent()));

    /** The fields of each message on a kind's control channel ({@code taskpool:{task}:control}), by event type. */
    public static final Map<String, List<Field>> CONTROL_EVENTS = Map.ofEntries(
            entry(CANCEL, List.of(EVENT, TASK, ID, new Field("lease", FieldType.TEXT, true), BY, AT)),
            // A bulk retry: how many failed tasks went back to the queue.
            entry(RESUBMITTED, List.of(EVENT, TASK, new Field("count", FieldType.INTEGER, true), BY, AT)),
            entry(PAUSED, List.of(EVENT, TASK, BY, AT)),
            entry(RESUMED, List.of(EVENT, TASK, BY, AT)));

    private static List<Field> taskEvent(Field... own) {
        List<Field> fields = new ArrayList<>(List.of(EVENT, TASK, ID, AT));
        fields.addAll(List.of(own));
        return List.copyOf(fields);
    }

    public static TaskEvent parse(String text) {
        JsonNode node = Json.read(text, "event message");
        return new TaskEvent(node.path("event").asText(), node.path("task").asText(), node.path("id").asLong(), node);
    }

    /** True for the events that end a task (success, failure, and canceled, which ends it FAILURE). */
    public boolean isFinal() {
        return SUCCESS.equals(event) || FAILURE.equals(event) || CANCELED.equals(event);
    }

    /** Starts a message with the fields every event has. */
    public static ObjectNode message(String event, String task, long id, TaskStatus status, long at) {
        ObjectNode node = Json.NODES.objectNode();
        node.put("event", event);
        node.put("task", task);
        node.put("id", id);
        if (status != null) {
            node.put("status", status.name());
        }
        node.put("at", at);
        return node;
    }

    /** Progress reported by a run (or from outside one); the task's status does not change. */
    public static ObjectNode progress(String task, long id, long current, long total, String message, long at) {
        ObjectNode node = message(PROGRESS, task, id, null, at);
        node.put("current", current);
        node.put("total", total);
        node.put("message", message);
        return node;
    }

    /** A run failed and the task runs again at once, as run {@code attempt}, under a new lease. */
    public static ObjectNode retry(String task, long id, int attempt, String error, long at) {
        ObjectNode node = message(RETRY, task, id, TaskStatus.RUNNING, at);
        node.put("attempt", attempt);
        node.put("error", error);
        return node;
    }

    /** A running task went back to the queue (its worker stopped); the interrupted run does not count. */
    public static ObjectNode requeued(String task, long id, long at) {
        return message(REQUEUED, task, id, TaskStatus.WAITING, at);
    }

    /** An operator deleted the finished task. */
    public static ObjectNode deleted(String task, long id, long at) {
        return message(DELETED, task, id, null, at);
    }

    /** An operator ran the delayed task now ({@code by} null: no name given); it is WAITING at the front of the queue. */
    public static ObjectNode promoted(String task, long id, String by, long at) {
        ObjectNode node = message(PROMOTED, task, id, TaskStatus.WAITING, at);
        node.put("by", by);
        return node;
    }

    /** Control channel: the kind was paused by {@code by} (null: no name given). */
    public static ObjectNode paused(String task, String by, long at) {
        return control(PAUSED, task, by, at);
    }

    /** Control channel: the kind was resumed by {@code by} (null: no name given). */
    public static ObjectNode resumed(String task, String by, long at) {
        return control(RESUMED, task, by, at);
    }

    private static ObjectNode control(String event, String task, String by, long at) {
        ObjectNode node = Json.NODES.objectNode();
        node.put("event", event);
        node.put("task", task);
        node.put("by", by);
        node.put("at", at);
        return node;
    }

    @Override
    public String toString() {
        return message.toString();
    }
}
