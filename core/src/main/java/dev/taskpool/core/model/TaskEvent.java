package dev.taskpool.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;

/**
 * One transition of one task, as published on {@code taskpool:{task}:events:<id>}:
 * {@code {"event":"added|started|progress|retry|requeued|success|failure","task":..,"id":..,...}}, and
 * the operators' {@code canceled} (the task is now FAILURE), {@code resubmitted} (FAILURE back to
 * WAITING) and {@code deleted}.
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

    @Override
    public String toString() {
        return message.toString();
    }
}
