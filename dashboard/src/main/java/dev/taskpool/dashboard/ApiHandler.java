package dev.taskpool.dashboard;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.ControlException;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskPage;
import dev.taskpool.core.redis.RedisFullException;
import dev.taskpool.core.schedule.UnknownScheduleException;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON API under {@code /api/}: reads with GET, control actions with POST.
 *
 * <pre>
 * GET  /api/overview                         every kind's stats (or its error), the workers, problems, what this dashboard allows
 * GET  /api/workers                          the live workers
 * GET  /api/kinds/T                          one kind's stats
 * GET  /api/kinds/T/tasks?status=S&amp;limit=N&amp;after=C   one page of its tasks in status S, newest first
 * GET  /api/kinds/T/tasks/ID                 one task
 * POST /api/kinds/T/pause | resume | retry-failed
 * POST /api/kinds/T/tasks/ID/retry | cancel | run-now | delete
 * GET  /api/schedules, /api/schedules/ID     the cron schedules ({@link ScheduleApi})
 * POST /api/schedules/ID/stop | start | trigger
 * </pre>
 */
final class ApiHandler {
    static final int DEFAULT_LIMIT = 20;
    static final int MAX_LIMIT = 500;
    /** The status of an action Redis refused because it is full (507 Insufficient Storage). */
    static final int REDIS_FULL = 507;

    private final TaskOperations operations;
    private final ScheduleApi schedules;
    private final DashboardSettings settings;

    ApiHandler(TaskOperations operations, ScheduleApi schedules, DashboardSettings settings) {
        this.operations = operations;
        this.schedules = schedules;
        this.settings = settings;
    }

    /** Whether a request changes state (and so needs what {@link Access} asks of changes). */
    static boolean changesState(HttpExchange exchange) {
        String method = exchange.getRequestMethod();
        return !(method.equals("GET") || method.equals("HEAD"));
    }

    void handle(HttpExchange exchange) throws IOException {
        List<String> path = segments(exchange.getRequestURI().getRawPath());
        String method = exchange.getRequestMethod();
        boolean read = method.equals("GET") || method.equals("HEAD");
        if (!read && !method.equals("POST")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD, POST");
            HttpIo.error(exchange, 405, method + " is not supported here: reads are GET, actions are POST");
            return;
        }
        try {
            if (read) {
                HttpIo.json(exchange, 200, read(path, HttpIo.query(exchange)));
            } else {
                HttpIo.json(exchange, 200, act(path, by(exchange)));
            }
        } catch (HttpIo.BadRequest | IllegalArgumentException e) {
            HttpIo.error(exchange, 400, e.getMessage());
        } catch (HttpIo.NotFound | UnknownTaskException | UnknownScheduleException e) {
            HttpIo.error(exchange, 404, e.getMessage());
        } catch (ControlException e) {
            HttpIo.error(exchange, 409, e.getMessage());
        } catch (RedisFullException e) {
            // Not the dashboard's failure: Redis refused the write; 507 Insufficient Storage says which.
            HttpIo.error(exchange, REDIS_FULL, e.getMessage());
        }
    }

    private Object read(List<String> path, Map<String, String> query) {
        if (!path.isEmpty() && path.getFirst().equals("schedules")) {
            return schedules.read(path);
        }
        if (path.equals(List.of("overview"))) {
            // A kind that cannot be read is a row with its error, a skipped presence entry a problem: the rest is shown.
            ObjectNode overview = operations.overview().toJson();
            overview.put("readOnly", settings.readOnly());
            overview.put("tokenRequired", settings.token() != null);
            overview.put("now", System.currentTimeMillis());
            return overview;
        }
        if (path.equals(List.of("workers"))) {
            return operations.workers();
        }
        if (path.size() >= 2 && path.getFirst().equals("kinds")) {
            String task = kind(path.get(1));
            if (path.size() == 2) {
                return operations.stats(task);
            }
            if (path.size() == 3 && path.get(2).equals("tasks")) {
                return page(task, query);
            }
            if (path.size() == 4 && path.get(2).equals("tasks")) {
                long id = id(task, path.get(3));
                TaskInfo info = operations.task(task, id).orElseThrow(() -> new HttpIo.NotFound(
                        "task " + task + " " + id + " does not exist (never added, deleted, or expired after its retention)"));
                return withHistory(info.toJson(), task, id);
            }
        }
        throw new HttpIo.NotFound("no such API path: /api/" + String.join("/", path) + " (see /api/overview)");
    }

    /** Fields an operator's retry leaves in the hash (the run before it stays readable); not part of {@link TaskInfo}. */
    static final String[] HISTORY_FIELDS = {"previous_error", "previous_attempts", "resubmitted", "resubmitted_by", "resubmitted_at"};

    private ObjectNode withHistory(ObjectNode task, String kind, long id) {
        ObjectNode history = Json.NODES.objectNode();
        operations.fields(kind, id, HISTORY_FIELDS).forEach((name, value) -> {
            if (!name.endsWith("error") && !name.endsWith("_by") && value.matches("-?\\d{1,18}")) {
                history.put(name, Long.parseLong(value));
            } else {
                history.put(name, value);
            }
        });
        if (!history.isEmpty()) {
            task.set("history", history);
        }
        return task;
    }

    private ObjectNode page(String task, Map<String, String> query) {
        TaskStatus status = status(query.getOrDefault("status", "waiting"));
        int limit = limit(query.get("limit"));
        String after = query.get("after");
        TaskPage page;
        try {
            page = operations.list(task, status, limit, after == null || after.isEmpty() ? null : after);
        } catch (TaskpoolException e) {
            if (after != null && e.getMessage() != null && e.getMessage().startsWith("cursor ")) {
                throw new HttpIo.BadRequest(e.getMessage());   // a cursor made up or from another listing
            }
            throw e;
        }
        ObjectNode body = Json.NODES.objectNode();
        body.put("task", task);
        body.put("status", status.name());
        ArrayNode tasks = body.putArray("tasks");
        page.tasks().forEach(info -> tasks.add(info.toJson()));
        if (page.nextCursor() == null) {
            body.putNull("next");
        } else {
            body.put("next", page.nextCursor());
        }
        return body;
    }

    private Object act(List<String> path, String by) {
        if (!path.isEmpty() && path.getFirst().equals("schedules")) {
            return schedules.act(path, by);
        }
        if (path.size() == 3 && path.getFirst().equals("kinds")) {
            String task = kind(path.get(1));
            ObjectNode done = done(path.get(2), task);
            switch (path.get(2)) {
                case "pause" -> operations.pause(task, by);
                case "resume" -> operations.resume(task, by);
                case "retry-failed" -> done.put("count", operations.retryFailed(task, by));
                default -> throw new HttpIo.NotFound("no action '" + path.get(2) + "' on a kind (expected pause, resume or retry-failed)");
            }
            return done;
        }
        if (path.size() == 5 && path.getFirst().equals("kinds") && path.get(2).equals("tasks")) {
            String task = kind(path.get(1));
            long id = id(task, path.get(3));
            ObjectNode done = done(path.get(4), task);
            done.put("id", id);
            switch (path.get(4)) {
                case "retry" -> operations.retry(task, id, by);
                case "cancel" -> operations.cancel(task, id, by);
                case "run-now" -> operations.runNow(task, id, by);
                case "delete" -> operations.delete(task, id);
                default -> throw new HttpIo.NotFound("no action '" + path.get(4) + "' on a task (expected retry, cancel,"
                        + " run-now or delete)");
            }
            return done;
        }
        throw new HttpIo.NotFound("no such action: POST /api/" + String.join("/", path));
    }

    private static ObjectNode done(String action, String task) {
        ObjectNode done = Json.NODES.objectNode();
        done.put("done", action);
        done.put("task", task);
        return done;
    }

    /** Who did it, for the events and errors an action writes. */
    private static String by(HttpExchange exchange) {
        return "dashboard@" + exchange.getRemoteAddress().getAddress().getHostAddress();
    }

    static List<String> segments(String rawPath) {
        String rest = rawPath.startsWith("/api/") ? rawPath.substring("/api/".length()) : "";
        return Arrays.stream(rest.split("/")).filter(s -> !s.isEmpty()).map(HttpIo::decode).toList();
    }

    /** A kind's name, or a partition's ({@code mail.send~2}: that partition of the kind alone). */
    static String kind(String text) {
        if (!TaskOperations.isKindOrPartitionName(text)) {
            throw new HttpIo.BadRequest("'" + text + "' is not a task kind name (letters, digits, _ and -, dot-separated)"
                    + " nor a partition's name (KIND~N)");
        }
        return text;
    }

    static long id(String task, String text) {
        try {
            long id = Long.parseLong(text);
            if (id < 1) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw new HttpIo.BadRequest("'" + text + "' is not a task id of " + task + " (expected a positive integer)");
        }
    }

    static TaskStatus status(String text) {
        try {
            return TaskStatus.valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new HttpIo.BadRequest("status '" + text + "' is unknown (expected waiting, running, success or failure)");
        }
    }

    static int limit(String text) {
        if (text == null || text.isEmpty()) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(text);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException ignored) {
            // the message below says what is expected
        }
        throw new HttpIo.BadRequest("limit '" + text + "' is not a number from 1 to " + MAX_LIMIT);
    }
}
