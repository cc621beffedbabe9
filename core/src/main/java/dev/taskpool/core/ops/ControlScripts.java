package dev.taskpool.core.ops;

import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.EventMode;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptReply;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.redis.RedisFullException;
import java.util.List;

/** Runs the control scripts and turns their refusals into {@link ControlException}s naming task, id and why. */
final class ControlScripts {
    /** The most failed tasks one call of the resubmit script takes: a bulk retry goes in such steps. */
    static final int RETRY_STEP = 200;

    private final ScriptRunner scripts;
    private final RedisCalls calls;
    /** How the scripts publish their events ({@link EventMode}). */
    private final String eventMode;

    ControlScripts(ScriptRunner scripts, RedisCalls calls, String eventMode) {
        this.scripts = scripts;
        this.calls = calls;
        this.eventMode = eventMode;
    }

    /** A refusal because the task is not in the partition the action ran on (another may hold it). */
    static final class TaskMissing extends ControlException {
        TaskMissing(String message) {
            super(message);
        }
    }

    private List<Object> run(LuaScript script, String what, String[] keys, String... args) {
        return calls.await(scripts.run(script, keys, args), what);
    }

    private static String name(Keys keys, long id) {
        return "task " + keys.task() + " " + id;
    }

    /** The refusal of one task's change; null when the script made it. */
    private static ControlException refused(Keys keys, long id, List<Object> reply, String action, String allowed) {
        return switch (ScriptReply.of(reply)) {
            case DONE -> null;
            case TASK_MISSING -> new TaskMissing(name(keys, id) + " does not exist (never added, or expired after its"
                    + " retention): nothing was " + action);
            case WRONG_STATUS -> new ControlException(name(keys, id) + " is " + reply.get(1)
                    + (reply.size() > 2 ? " (" + reply.get(2) + ")" : "") + ": only " + allowed + " can be "
                    + action + (action.equals("deleted") ? " (cancel it first)" : ""));
            case ScriptReply other -> new ControlException(name(keys, id) + ": " + action + " refused: " + other.meaning()
                    + " (code " + other.code() + ")");
        };
    }

    private static void throwIfRefused(Keys keys, long id, List<Object> reply, String action, String allowed) {
        ControlException refusal = refused(keys, id, reply, action, allowed);
        if (refusal != null) {
            throw refusal;
        }
    }

    void retry(Keys keys, long id, String by, long now) {
        List<Object> reply = run(LuaScript.RESUBMIT, "retry " + name(keys, id), resubmitKeys(keys),
                Long.toString(now), by, keys.task(), keys.eventsPrefix(), keys.control(), "one", Long.toString(id), "1",
                eventMode, keys.kindEvents());
        throwIfRefused(keys, id, reply, "retried", "a FAILURE task");
    }

    /**
     * Retries the failed tasks of one partition (the kind itself for most kinds) in steps of
     * {@link #RETRY_STEP}; those that fail again meanwhile are not taken again. {@code before}: how
     * many the kind's earlier partitions had retried, for the error when Redis refuses the rest.
     */
    int retryFailed(Keys keys, String by, long now, int before) {
        int total = 0;
        while (true) {
            List<Object> reply;
            try {
                reply = run(LuaScript.RESUBMIT, "retry the failed tasks of task " + keys.task(), resubmitKeys(keys),
                        Long.toString(now), by, keys.task(), keys.eventsPrefix(), keys.control(), "all", Long.toString(now),
                        Integer.toString(RETRY_STEP), eventMode, keys.kindEvents());
            } catch (RedisFullException e) {
                if (before + total == 0) {
                    throw e;
                }
                // The steps before stand: the message must not say that nothing was written.
                throw new RedisFullException(before + total + " failed tasks of task " + keys.task() + " were retried before"
                        + " Redis refused the rest: " + e.getMessage(), e);
            }
            total += ((Long) reply.getFirst()).intValue();
            if ((Long) reply.get(1) == 0) {
                return total;
            }
        }
    }

    private static String[] resubmitKeys(Keys keys) {
        return new String[] {keys.taskPrefix(), keys.waiting(), keys.wake(), keys.failed(), keys.stats(), keys.delayed(),
                keys.uniquePrefix()};
    }

    void cancel(Keys keys, long id, String by, long now) {
        List<Object> reply = run(LuaScript.CANCEL, "cancel " + name(keys, id),
                new String[] {keys.task(id), keys.waiting(), keys.leases(), keys.failed(), keys.stats(),
                        keys.errorHandlersDue(), keys.wake(), keys.definition(), keys.delayed(), keys.uniquePrefix()},
                Long.toString(id), Long.toString(now), by, keys.task(), keys.events(id), keys.control(), eventMode,
                keys.kindEvents());
        throwIfRefused(keys, id, reply, "canceled", "a WAITING or RUNNING task");
    }

    /** Pauses one partition (the kind itself for most kinds); the record of who paused it when it was paused already, else null. */
    String pause(Keys keys, String by, long now) {
        var record = Json.NODES.objectNode();
        record.put("by", by);
        record.put("at", now);
        var message = TaskEvent.paused(keys.task(), by, now);
        List<Object> reply = run(LuaScript.PAUSE, "pause task " + keys.partition(), new String[] {keys.paused()},
                record.toString(), keys.control(), message.toString(), eventMode);
        return ScriptReply.ALREADY_PAUSED.is(reply) ? String.valueOf(reply.get(1)) : null;
    }

    /** Resumes one partition; false when it was not paused. */
    boolean resume(Keys keys, String by, long now) {
        var message = TaskEvent.resumed(keys.task(), by, now);
        List<Object> reply = run(LuaScript.RESUME, "resume task " + keys.partition(),
                new String[] {keys.paused(), keys.waiting(), keys.wake(), keys.delayed()}, keys.control(), message.toString(),
                eventMode);
        return !ScriptReply.NOT_PAUSED.is(reply);
    }

    void runNow(Keys keys, long id, String by, long now) {
        String message = TaskEvent.promoted(keys.task(), id, by.isEmpty() ? null : by, now).toString();
        List<Object> reply = run(LuaScript.RUN_NOW, "run " + name(keys, id) + " now",
                new String[] {keys.task(id), keys.delayed(), keys.waiting(), keys.wake()},
                Long.toString(id), Long.toString(now), keys.events(id), message, eventMode, keys.kindEvents());
        throwIfRefused(keys, id, reply, "run now", "a delayed task (WAITING for its due time)");
    }

    void delete(Keys keys, long id, long now) {
        String message = TaskEvent.deleted(keys.task(), id, now).toString();
        List<Object> reply = run(LuaScript.DELETE, "delete " + name(keys, id),
                new String[] {keys.task(id), keys.succeeded(), keys.failed(), keys.uniquePrefix()},
                Long.toString(id), keys.events(id), message, eventMode, keys.kindEvents());
        throwIfRefused(keys, id, reply, "deleted", "a finished (SUCCESS or FAILURE) task");
    }
}
