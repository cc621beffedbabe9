package dev.taskpool.core.redis;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every state transition of a task, as Redis sees it. Each multi-key change is one Lua script
 * (see {@link LuaScript}); the caller passes the time, scripts never read the clock.
 */
public final class TaskStore {
    private final RedisConnector redis;
    private final RedisAsyncCommands<String, String> commands;
    private final ScriptRunner scripts;
    private final Duration timeout;
    private final Duration requestMemory;

    public TaskStore(RedisConnector redis) {
        this.redis = redis;
        this.commands = redis.connection().async();
        this.scripts = redis.scripts();
        this.timeout = redis.commandTimeout().plusSeconds(1);
        // A re-sent command arrives within the command timeout of its first sending (Lettuce
        // does not re-send commands that timed out); six times that is a wide margin.
        this.requestMemory = redis.commandTimeout().multipliedBy(6);
    }

    public RedisConnector redis() {
        return redis;
    }

    /** Publishes a definition so thin clients and the enqueue script know the task and its size. */
    public void publish(TaskDefinition definition) {
        Keys keys = Keys.of(definition.id());
        List<String> fields = new ArrayList<>();
        definition.toPublishedFields().forEach((field, value) -> {
            fields.add(field);
            fields.add(value);
        });
        await(scripts.run(LuaScript.DEFINE, new String[] {keys.definition()}, fields.toArray(String[]::new)),
                "publish task " + definition.id());
        await(commands.sadd(Keys.TASK_REGISTRY, definition.id()).toCompletableFuture(), "register task " + definition.id());
    }

    /** The published definition's fields, or empty when no runtime has published this task. */
    public Optional<Map<String, String>> publishedDefinition(String task) {
        Map<String, String> fields = await(commands.hgetall(Keys.of(task).definition()).toCompletableFuture(),
                "read the definition of task " + task);
        return fields == null || fields.isEmpty() ? Optional.empty() : Optional.of(fields);
    }

    /**
     * Adds a task. {@code id} null takes the next value of the task's counter.
     *
     * @throws UnknownTaskException when no runtime has published the task
     * @throws TaskpoolException    when the id is taken
     */
    public AddResult add(String task, Long id, String argsJson, long now) {
        Keys keys = Keys.of(task);
        if (id != null) {
            TaskIds.requireValidNumber(task, id);
        }
        List<Object> reply = await(scripts.run(LuaScript.ENQUEUE,
                new String[] {keys.definition(), keys.sequence(), keys.waiting(), keys.wake(), keys.taskPrefix(),
                        keys.request(RequestIds.next()), keys.stats()},
                id == null ? "" : Long.toString(id), argsJson, Long.toString(now), task, keys.eventsPrefix(),
                Long.toString(requestMemory.toMillis())),
                "add a task to " + task);
        Object first = reply.getFirst();
        if (first instanceof Long code) {
            return switch (code.intValue()) {
                case 0 -> new AddResult(task, 0);
                case -1 -> throw unknownTask(task);
                case -2 -> throw new TaskpoolException("task " + task + ": id " + id
                        + " already exists; an add never overwrites a task (check event.next)");
                default -> throw new IllegalStateException("enqueue returned " + code);
            };
        }
        return new AddResult(task, Long.parseLong((String) first));
    }

    public static UnknownTaskException unknownTask(String task) {
        return new UnknownTaskException("unknown task '" + task + "': no runtime has published it to Redis"
                + " (start a worker or run a process with the app that defines tasks/" + task.replace('.', '/') + ".yao)");
    }

    /**
     * Moves up to {@code max} waiting tasks to RUNNING under leases held by {@code worker}; a
     * waiting task whose hash holds garbage ends in FAILURE (kept for {@code keep}).
     */
    public CompletableFuture<List<FetchedTask>> fetch(String task, int max, long now, long leaseDeadline, String worker,
                                                     Duration keep) {
        Keys keys = Keys.of(task);
        long claimLife = Math.max(leaseDeadline - now, 1000) * 2;
        return scripts.run(LuaScript.FETCH,
                new String[] {keys.waiting(), keys.leases(), keys.wake(), keys.taskPrefix(), keys.claim(worker), keys.stats()},
                Integer.toString(max), Long.toString(now), Long.toString(leaseDeadline), worker, task, keys.eventsPrefix(),
                RequestIds.next(), Long.toString(claimLife), Long.toString(keep.toMillis()))
                .thenApply(reply -> {
                    List<FetchedTask> fetched = new ArrayList<>(reply.size() / 3);
                    for (int i = 0; i + 2 < reply.size(); i += 3) {
                        long id = Long.parseLong((String) reply.get(i));
                        int attempt = ((Long) reply.get(i + 1)).intValue();
                        fetched.add(new FetchedTask(task, id, attempt, (String) reply.get(i + 2), worker + "/" + attempt));
                    }
                    return fetched;
                });
    }

    /** Ends a run in SUCCESS ({@code payload} = response JSON) or FAILURE ({@code payload} = error text). */
    public CompletableFuture<TransitionResult> complete(FetchedTask run, TaskStatus status, String payload,
                                                       long now, Duration keep, String eventMessage) {
        Keys keys = Keys.of(run.task());
        return scripts.run(LuaScript.COMPLETE, new String[] {keys.task(run.id()), keys.leases(), keys.stats()},
                Long.toString(run.id()), run.token(), status.name(), payload, Long.toString(now),
                Long.toString(keep.toMillis()), keys.events(run.id()), eventMessage)
                .thenApply(TaskStore::transition);
    }

    /** Records a failed run and starts run {@code next.attempt()} under the token {@code next.token()}. */
    public CompletableFuture<TransitionResult> retry(FetchedTask failed, FetchedTask next, String error, long now,
                                                    long leaseDeadline, String eventMessage) {
        Keys keys = Keys.of(failed.task());
        return scripts.run(LuaScript.RETRY, new String[] {keys.task(failed.id()), keys.leases(), keys.stats()},
                Long.toString(failed.id()), failed.token(), next.token(), Integer.toString(next.attempt()), error,
                Long.toString(now), Long.toString(leaseDeadline), keys.events(failed.id()), eventMessage)
                .thenApply(TaskStore::transition);
    }

    /** Hands a running task back to the queue; the interrupted run does not count. */
    public CompletableFuture<TransitionResult> release(FetchedTask run, long now) {
        Keys keys = Keys.of(run.task());
        String message = TaskEvent.message(TaskEvent.REQUEUED, run.task(), run.id(), TaskStatus.WAITING, now).toString();
        return scripts.run(LuaScript.RELEASE,
                new String[] {keys.task(run.id()), keys.leases(), keys.waiting(), keys.wake()},
                Long.toString(run.id()), run.token(), keys.events(run.id()), message)
                .thenApply(TaskStore::transition);
    }

    /** Extends the leases still held; returns the ids whose lease was lost. */
    public CompletableFuture<List<Long>> heartbeat(String task, long leaseDeadline, List<FetchedTask> runs) {
        Keys keys = Keys.of(task);
        List<String> args = new ArrayList<>(1 + runs.size() * 2);
        args.add(Long.toString(leaseDeadline));
        for (FetchedTask run : runs) {
            args.add(Long.toString(run.id()));
            args.add(run.token());
        }
        return scripts.run(LuaScript.HEARTBEAT, new String[] {keys.leases(), keys.taskPrefix()}, args.toArray(String[]::new))
                .thenApply(reply -> reply.stream().map(id -> Long.parseLong((String) id)).toList());
    }

    /** Requeues (or fails, when out of runs) tasks whose lease expired before {@code now}. */
    public CompletableFuture<RecoverResult> recover(String task, long now, int limit) {
        Keys keys = Keys.of(task);
        return scripts.run(LuaScript.RECOVER,
                new String[] {keys.leases(), keys.waiting(), keys.wake(), keys.definition(), keys.taskPrefix(), keys.stats()},
                Long.toString(now), Integer.toString(limit), task, keys.eventsPrefix())
                .thenApply(reply -> new RecoverResult(((Long) reply.getFirst()).intValue(),
                        reply.subList(1, reply.size()).stream().map(id -> Long.parseLong((String) id)).toList()));
    }

    /** Records progress and publishes it. */
    public void progress(String task, long id, long current, long total, String message, long now) {
        Keys keys = Keys.of(task);
        var event = TaskEvent.message(TaskEvent.PROGRESS, task, id, null, now);
        event.put("current", current);
        event.put("total", total);
        event.put("message", message);
        List<Object> reply = await(scripts.run(LuaScript.PROGRESS, new String[] {keys.task(id)},
                Long.toString(current), Long.toString(total), message, Long.toString(now), keys.events(id),
                event.toString()), "record progress of task " + task + " #" + id);
        long code = (Long) reply.getFirst();
        if (code == -3) {
            throw new UnknownTaskException("task " + task + " #" + id + " does not exist (never added, or expired)");
        }
        if (code == -5) {
            throw new TaskpoolException("task " + task + " #" + id + " has already finished; progress can no longer change");
        }
    }

    /** The counters of a task kind, which outlive the tasks themselves (added, succeeded, failed, retried, recovered). */
    public Map<String, Long> stats(String task) {
        Map<String, String> hash = await(commands.hgetall(Keys.of(task).stats()).toCompletableFuture(),
                "read the counters of task " + task);
        Map<String, Long> counters = new java.util.TreeMap<>();
        for (String name : List.of("added", "succeeded", "failed", "retried", "recovered")) {
            counters.put(name, Long.parseLong(hash.getOrDefault(name, "0")));
        }
        return counters;
    }

    /** Reads a task; empty when it does not exist (never added, or expired after its retention). */
    public Optional<TaskInfo> get(String task, long id) {
        Map<String, String> hash = await(commands.hgetall(Keys.of(task).task(id)).toCompletableFuture(),
                "read task " + task + " #" + id);
        return hash == null || hash.isEmpty() ? Optional.empty() : Optional.of(TaskInfo.fromHash(task, id, hash));
    }

    /** Waits for a Redis reply, turning failures into errors that say what was being done. */
    public <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskpoolException("interrupted while trying to " + what, e);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new TaskpoolException("Redis at " + redis.describe() + " did not answer within "
                    + timeout.toSeconds() + "s while trying to " + what, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TaskpoolException known) {
                throw known;
            }
            throw new TaskpoolException("Redis at " + redis.describe() + " failed to " + what + ": "
                    + RedisConnector.rootMessage(cause), cause);
        }
    }

    private static TransitionResult transition(List<Object> reply) {
        return TransitionResult.fromCode((Long) reply.getFirst());
    }
}
