package dev.taskpool.core.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.TaskFailedException;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.json.Json;
import java.lang.reflect.Type;
import java.util.Map;

/**
 * A task record as read from its hash {@code taskpool:{task}:task:<id>}. What {@code get} returns:
 * the seed's {@code {id, status, current, total, message, response}} plus attempt, error and times,
 * and what operators did to it: {@code previousError} and {@code previousAttempts} (the error and
 * runs before an operator's retry; null and 0 when never retried), {@code resubmitted} (how many
 * times an operator retried it), {@code canceledBy} (who canceled it, when it was canceled by name);
 * {@code dueAt}: the time (epoch ms, Redis' clock) a delayed task may start, 0 when it never had one
 * (it stays once the task fell due, as history: the task is delayed while it is WAITING and
 * {@code dueAt} is still ahead, {@link #delayedAt(long)}); {@code freeRuns}: the runs that did not
 * count against {@code attempts} (their processor threw {@code RetryLater} with {@code counts}
 * false; the runs made are {@code attempt + freeRuns}); for a task a cron schedule made,
 * {@code schedule} (its id) and {@code fireAt} (its fire time, epoch ms); {@code key}: the unique
 * key it holds (the add option {@code key}, or {@code "args:<sha1>"} for a kind unique by its
 * arguments), null when none; and {@code priority}: 0 to 3 (higher starts first), 0 when the add
 * gave none.
 */
public record TaskInfo(
        String task,
        long id,
        TaskStatus status,
        long current,
        long total,
        String message,
        JsonNode response,
        JsonNode args,
        int attempt,
        String error,
        Long createdAt,
        Long startedAt,
        Long finishedAt,
        String worker,
        String previousError,
        int previousAttempts,
        int resubmitted,
        String canceledBy,
        long dueAt,
        int freeRuns,
        String schedule,
        long fireAt,
        String key,
        int priority) {

    /** A record with no unique key, of priority 0. */
    public TaskInfo(String task, long id, TaskStatus status, long current, long total, String message, JsonNode response,
                    JsonNode args, int attempt, String error, Long createdAt, Long startedAt, Long finishedAt, String worker,
                    String previousError, int previousAttempts, int resubmitted, String canceledBy, long dueAt, int freeRuns,
                    String schedule, long fireAt) {
        this(task, id, status, current, total, message, response, args, attempt, error, createdAt, startedAt, finishedAt,
                worker, previousError, previousAttempts, resubmitted, canceledBy, dueAt, freeRuns, schedule, fireAt, null, 0);
    }

    /** A record never delayed, whose runs all counted, not made by a schedule. */
    public TaskInfo(String task, long id, TaskStatus status, long current, long total, String message, JsonNode response,
                    JsonNode args, int attempt, String error, Long createdAt, Long startedAt, Long finishedAt, String worker,
                    String previousError, int previousAttempts, int resubmitted, String canceledBy) {
        this(task, id, status, current, total, message, response, args, attempt, error, createdAt, startedAt, finishedAt,
                worker, previousError, previousAttempts, resubmitted, canceledBy, 0, 0, null, 0);
    }

    /** As above, and without operator history (never retried or canceled by an operator). */
    public TaskInfo(String task, long id, TaskStatus status, long current, long total, String message, JsonNode response,
                    JsonNode args, int attempt, String error, Long createdAt, Long startedAt, Long finishedAt, String worker) {
        this(task, id, status, current, total, message, response, args, attempt, error, createdAt, startedAt, finishedAt,
                worker, null, 0, 0, null, 0, 0, null, 0);
    }

    /** Whether the task waits for its due time at {@code now}: WAITING, with a due time still ahead. */
    public boolean delayedAt(long now) {
        return status == TaskStatus.WAITING && dueAt > now;
    }

    /**
     * The response of a task that ended in SUCCESS as a {@code type} (a record, a {@code Map}, a
     * {@code String}...), converted from its stored JSON by {@link Json#convert(Object, Type)}: what
     * a processor returned comes back equal. A processor that returned nothing gives null.
     *
     * @throws TaskFailedException when the task ended in FAILURE, carrying its error
     * @throws TaskpoolException   when it has not ended yet (WAITING or RUNNING: no response so far),
     *                             or when the response does not fit {@code type}, naming the task,
     *                             the type and why
     */
    @SuppressWarnings("unchecked")
    public <T> T response(Class<T> type) {
        return (T) response((Type) type);
    }

    /** As {@link #response(Class)}, for a generic type: {@code response(new TypeReference<List<Receipt>>() {})}. */
    @SuppressWarnings("unchecked")
    public <T> T response(TypeReference<T> type) {
        return (T) response(type.getType());
    }

    private Object response(Type type) {
        if (status == TaskStatus.FAILURE) {
            throw new TaskFailedException(task, id, error, attempt);
        }
        if (status != TaskStatus.SUCCESS) {
            throw new TaskpoolException("task " + task + " #" + id + " has no response yet: it is " + status);
        }
        try {
            return Json.convert(response, type);
        } catch (TaskpoolException e) {
            throw new TaskpoolException("task " + task + " #" + id + ", its response: " + e.getMessage(), e);
        }
    }

    /** Reads a hash; a field that is not what taskpool writes is an error naming that field. */
    public static TaskInfo fromHash(String task, long id, Map<String, String> hash) {
        String where = "task " + task + " #" + id;
        String statusText = hash.get("status");
        TaskStatus status;
        try {
            status = TaskStatus.valueOf(statusText);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new TaskpoolException(where + ": field 'status' holds '" + statusText
                    + "', expected one of WAITING, RUNNING, SUCCESS, FAILURE");
        }
        String response = hash.get("response");
        String args = hash.get("args");
        return new TaskInfo(task, id, status,
                number(where, hash, "current", 0L), number(where, hash, "total", 0L),
                hash.getOrDefault("message", ""),
                response == null || response.isEmpty() ? null : jsonOrText(response),
                args == null ? Json.NODES.arrayNode() : jsonOrText(args),
                number(where, hash, "attempt", 0L).intValue(), hash.get("error"),
                number(where, hash, "created_at", null), number(where, hash, "started_at", null),
                number(where, hash, "finished_at", null), hash.get("worker"),
                hash.get("previous_error"), number(where, hash, "previous_attempts", 0L).intValue(),
                number(where, hash, "resubmitted", 0L).intValue(), hash.get("canceled_by"),
                number(where, hash, "due_at", 0L), number(where, hash, "free_runs", 0L).intValue(),
                hash.get("schedule"), number(where, hash, "fire_at", 0L),
                emptyAsNull(hash.get("key")), number(where, hash, "priority", 0L).intValue());
    }

    private static String emptyAsNull(String text) {
        return text == null || text.isEmpty() ? null : text;
    }

    /** A JSON field as JSON; text that is no JSON (written by hand) stays readable as a string. */
    private static JsonNode jsonOrText(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            return Json.NODES.textNode(text);
        }
    }

    private static Long number(String where, Map<String, String> hash, String field, Long fallback) {
        String text = hash.get(field);
        if (text == null || text.isEmpty()) {
            return fallback;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            try {
                double value = Double.parseDouble(text);
                if (value == Math.rint(value)) {
                    return (long) value;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the error below
            }
            throw new TaskpoolException(where + ": field '" + field + "' holds '" + text + "', expected an integer");
        }
    }

    /** The task as JSON: the seed's fields first, then the extras; {@code priority} always, {@code key} when it has one. */
    public ObjectNode toJson() {
        ObjectNode node = Json.NODES.objectNode();
        node.put("id", id);
        node.put("status", status.name());
        node.put("current", current);
        node.put("total", total);
        node.put("message", message);
        node.set("response", response == null ? Json.NODES.nullNode() : response);
        node.put("task", task);
        node.put("attempt", attempt);
        if (error != null) node.put("error", error);
        node.set("args", args);
        if (createdAt != null) node.put("created_at", createdAt);
        if (startedAt != null) node.put("started_at", startedAt);
        if (finishedAt != null) node.put("finished_at", finishedAt);
        if (worker != null) node.put("worker", worker);
        if (previousError != null) node.put("previous_error", previousError);
        if (previousAttempts > 0) node.put("previous_attempts", previousAttempts);
        if (resubmitted > 0) node.put("resubmitted", resubmitted);
        if (canceledBy != null) node.put("canceled_by", canceledBy);
        if (dueAt > 0) node.put("due_at", dueAt);
        if (freeRuns > 0) node.put("free_runs", freeRuns);
        if (schedule != null) node.put("schedule", schedule);
        if (fireAt > 0) node.put("fire_at", fireAt);
        if (key != null) node.put("key", key);
        node.put("priority", priority);
        return node;
    }
}
