package dev.taskpool.worker.runtime;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.worker.process.ProcessException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tasks.<id>.add}, {@code tasks.<id>.addWith(options, ...args)} (an add with options: a due
 * time) (and {@code retryAdd} for an add whose outcome was unknown),
 * {@code tasks.<id>.get} and {@code tasks.<id>.progress}, with the events
 * that run where the process is called: {@code next} and {@code add} around an add, and
 * {@code progress} after progress is recorded (DESIGN §3).
 */
final class TaskProcesses {
    private static final Logger log = LoggerFactory.getLogger(TaskProcesses.class);

    private final AppRuntime runtime;
    /**
     * Adds whose outcome was unknown, by request id, so that a script can settle one with
     * {@code tasks.<id>.retryAdd(requestId)}; each is dropped once settled or past its retry deadline.
     */
    private final Map<String, AddRequest> unsettled = new ConcurrentHashMap<>();

    TaskProcesses(AppRuntime runtime) {
        this.runtime = runtime;
    }

    Object call(String name, List<Object> args) {
        int lastDot = name.lastIndexOf('.');
        String method = name.substring(lastDot + 1).toLowerCase(Locale.ROOT);
        String task = name.substring("tasks.".length(), Math.max(lastDot, "tasks.".length()));
        TaskDefinition definition = runtime.definition(task).orElseThrow(() -> new ProcessException("unknown process '"
                + name + "': the app has no task '" + task + "' (tasks: " + String.join(", ", runtime.taskIds()) + ")"));
        return switch (method) {
            case "add" -> add(definition, args);
            case "addwith" -> {
                if (args.isEmpty()) {
                    throw new ProcessException(name + " expects (options, ...args), the options first, e.g. {\"delay\": 3000};"
                            + " got no arguments");
                }
                AddOptions options = options(name, args.getFirst());
                yield addWith(definition, options, args.subList(1, args.size()));
            }
            case "retryadd" -> {
                if (args.size() != 1 || !(args.getFirst() instanceof String requestId)) {
                    throw new ProcessException(name + " expects one argument, the request id of an add whose outcome"
                            + " was unknown; got " + args.size() + " arguments");
                }
                yield retryAdd(definition, requestId);
            }
            case "get" -> get(definition, args);
            case "progress" -> {
                if (args.size() < 3 || args.size() > 4) {
                    throw new ProcessException(name + " expects (id, current, total, message), got " + args.size() + " arguments");
                }
                progress(definition, args.get(0), args.get(1), args.get(2), args.size() > 3 ? args.get(3) : "");
                yield null;
            }
            default -> throw new ProcessException("unknown process '" + name
                    + "': a task offers add, addWith, retryAdd, get and progress");
        };
    }

    /** The options of {@code addWith}: an object ({@code {"delay": 3000}}, {@code {"at": epochMs}}), or null for none. */
    private static AddOptions options(String name, Object value) {
        if (value == null) {
            return AddOptions.none();
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new ProcessException(name + ": its first argument must be the options object, e.g. {\"delay\": 3000}"
                    + " or {\"at\": 1765090000000} (ms), got " + Json.write(value) + "; nothing was added");
        }
        Map<String, Object> options = new LinkedHashMap<>();
        map.forEach((key, option) -> options.put(String.valueOf(key), option));
        try {
            return AddOptions.fromMap(options);
        } catch (IllegalArgumentException e) {
            throw new ProcessException(name + ": " + e.getMessage() + "; nothing was added");
        }
    }

    /** Runs {@code event.next}, enqueues, then runs {@code event.add}. Returns the id, or 0 when the queue is full. */
    long add(TaskDefinition definition, List<Object> args) {
        return addWith(definition, AddOptions.none(), args);
    }

    /**
     * As {@link #add}, with {@code options} (a due time: the task waits, delayed, until then by Redis'
     * clock; a unique key: while its task waits or runs, the add answers that task's id; a priority).
     */
    long addWith(TaskDefinition definition, AddOptions options, List<Object> args) {
        String argsJson = runtime.serializeArgs(definition.id(), args);
        Long id = null;
        if (definition.events().next() != null) {
            Object next = runtime.call(definition.events().next(), List.of());
            id = requireTaskNumber(definition, next);
        }
        AddResult result;
        try {
            result = runtime.adds().addWith(definition.id(), id, argsJson, options, runtime.clock().millis());
        } catch (AddOutcomeUnknownException e) {
            remember(e.request());
            throw e;
        }
        if (result.duplicate()) {
            // Nothing was added: the id is the task that holds the key; no `add` handler runs.
            log.debug("task {}: add answered by #{}, which holds its unique key", definition.id(), result.id());
            return result.id();
        }
        return added(definition, result.isQueueFull() ? List.of() : List.of(result.id()));
    }

    /** Sends an add whose outcome was unknown again (same request id): its id, once; 0 when the queue is full now. */
    long retryAdd(TaskDefinition definition, String requestId) {
        AddRequest request = unsettled.get(requestId);
        if (request == null || !Keys.of(request.task()).task().equals(definition.id())) {
            throw new ProcessException("tasks." + definition.id() + ".retryAdd: no add of task " + definition.id()
                    + " with request id '" + requestId + "' is waiting to be settled in this runtime (settled already,"
                    + " past its retry deadline, or made by another process)");
        }
        List<Long> ids;
        try {
            ids = runtime.adds().retryAdd(request, runtime.clock().millis());
        } catch (RuntimeException e) {
            if (!(e instanceof AddOutcomeUnknownException)) {
                unsettled.remove(requestId); // a definite answer: nothing is left to settle
            }
            throw e;
        }
        unsettled.remove(requestId);
        return added(definition, ids);
    }

    private long added(TaskDefinition definition, List<Long> ids) {
        if (ids.isEmpty()) {
            log.warn("task {}: queue full ({} waiting), add refused", definition.id(), definition.size());
            return 0;
        }
        runtime.metrics().added(definition.id(), ids.size());
        long id = ids.getFirst();
        runEvent(definition, "add", definition.events().add(), id, List.of(id));
        return id;
    }

    private void remember(AddRequest request) {
        long now = runtime.clock().millis();
        unsettled.values().removeIf(old -> old.retryBefore() <= now);
        unsettled.put(request.requestId(), request);
    }

    Object get(TaskDefinition definition, List<Object> args) {
        if (args.size() != 1) {
            throw new ProcessException("tasks." + definition.id() + ".get expects one argument, the id; got " + args.size());
        }
        long id = toId(definition, args.getFirst());
        TaskInfo info = runtime.reads().get(definition.id(), id).orElseThrow(() -> new UnknownTaskException(
                "task " + definition.id() + " #" + id + " does not exist (never added, or expired after its retention)"));
        return Json.toJava(info.toJson());
    }

    void progress(TaskDefinition definition, Object idValue, Object currentValue, Object totalValue, Object messageValue) {
        long id = toId(definition, idValue);
        long current = toCount(definition, "current", currentValue);
        long total = toCount(definition, "total", totalValue);
        if (messageValue != null && !(messageValue instanceof String)) {
            messageValue = Json.write(messageValue);
        }
        String message = messageValue == null ? "" : (String) messageValue;
        // Inside the run of this very task the progress carries the run's lease token: a run that
        // lost its lease (frozen past it while another worker took the task over) is refused.
        var run = CurrentRun.get().filter(running -> running.runs(definition.id(), id));
        String token = run.map(CurrentRun.RunningTask::token).orElse(null);
        // (the partition that holds the task: the run's own, else the one a partitioned kind's id
        // names, or partition 0 for an id the kind gave before it was partitioned)
        String partition = run.map(CurrentRun.RunningTask::partition)
                .orElseGet(() -> runtime.reads().partitionOf(definition.id(), id));
        runtime.runs().progress(partition, id, current, total, message, runtime.clock().millis(), token);
        runEvent(definition, "progress", definition.events().progress(), id, List.of(id, current, total, message));
    }

    /** Runs an event handler; a failing handler is logged and never changes the task's outcome. */
    void runEvent(TaskDefinition definition, String event, String handler, long id, List<Object> args) {
        if (handler == null) {
            return;
        }
        try {
            runtime.call(handler, args);
        } catch (RuntimeException e) {
            log.error("task {} #{}: event.{} handler {} failed: {}", definition.id(), id, event, handler, e.getMessage());
        }
    }

    private static long requireTaskNumber(TaskDefinition definition, Object value) {
        String handler = definition.events().next();
        if (!(value instanceof Number number)) {
            throw new TaskpoolException("task " + definition.id() + ": event.next (" + handler
                    + ") must return a positive integer, got " + describe(value));
        }
        double asDouble = number.doubleValue();
        if (asDouble != Math.rint(asDouble) || asDouble < 1 || asDouble > TaskIds.MAX_TASK_NUMBER) {
            throw new TaskpoolException("task " + definition.id() + ": event.next (" + handler
                    + ") must return an integer from 1 to 2^53-1, got " + number);
        }
        return number.longValue();
    }

    static long toId(TaskDefinition definition, Object value) {
        Object id = value;
        if (id instanceof String text && text.matches("\\d{1,16}")) {
            id = Long.parseLong(text);
        }
        if (id instanceof Number number && number.doubleValue() == Math.rint(number.doubleValue())
                && number.doubleValue() >= 1 && number.doubleValue() <= TaskIds.MAX_TASK_NUMBER) {
            return number.longValue();
        }
        throw new ProcessException("task " + definition.id() + ": expected a task id (an integer from 1 to 2^53-1), got "
                + describe(value));
    }

    private static long toCount(TaskDefinition definition, String what, Object value) {
        if (value instanceof Number number && Double.isFinite(number.doubleValue()) && number.doubleValue() >= 0
                && number.doubleValue() <= TaskIds.MAX_TASK_NUMBER) {
            return Math.round(number.doubleValue());
        }
        throw new ProcessException("task " + definition.id() + ": progress " + what
                + " must be a number from 0 to 2^53-1, got " + describe(value));
    }

    static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        String text = value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
        String kind = value instanceof String ? "string" : value instanceof Number ? "number"
                : value instanceof Boolean ? "boolean" : value instanceof List ? "array" : "object";
        return kind + " " + (text.length() > 60 ? text.substring(0, 57) + "..." : text);
    }
}
