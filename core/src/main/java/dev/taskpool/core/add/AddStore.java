package dev.taskpool.core.add;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.redis.AddIncompleteException;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.redis.NewTask;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Adding tasks, as Redis sees it: publishing the definitions that say which tasks exist, and the
 * adds themselves (one, a batch, asynchronously, or again after an unknown outcome). Each
 * multi-key change is one Lua script (see {@link LuaScript}); the caller passes the time.
 */
public final class AddStore {
    private final RedisConnector redis;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final ScriptRunner scripts;
    private final RedisCalls calls;
    private final AddSender adds;

    /** A store whose adds re-send for up to three command timeouts before reporting an unknown outcome. */
    public AddStore(RedisConnector redis) {
        this(redis, redis.timeouts().defaultAddDeadline());
    }

    /**
     * @param addDeadline how long an add whose reply does not come keeps re-sending the same
     *                    request before it throws {@link AddOutcomeUnknownException}
     */
    public AddStore(RedisConnector redis, Duration addDeadline) {
        this.redis = redis;
        this.commands = redis.async();
        this.scripts = new ScriptRunner(redis.async());
        this.calls = new RedisCalls(redis);
        this.adds = new AddSender(redis, scripts, addDeadline);
    }

    public RedisConnector redis() {
        return redis;
    }

    /** Script round trips made through this store so far. */
    public long scriptCalls() {
        return scripts.calls();
    }

    /**
     * Publishes a definition so thin clients and the enqueue script know the task and its size.
     * What is already there is not written again: a worker then starts against a full Redis
     * (maxmemory), which refuses every write that could add memory, even one that changes nothing.
     */
    public void publish(TaskDefinition definition) {
        Keys keys = Keys.of(definition.id());
        Map<String, String> wanted = definition.toPublishedFields();
        Map<String, String> published = readChecked(commands.hgetall(keys.definition()).toCompletableFuture(),
                keys.definition(), "hash", "read the published definition of task " + definition.id());
        if (!wanted.equals(published)) {
            List<String> fields = new ArrayList<>();
            wanted.forEach((field, value) -> {
                fields.add(field);
                fields.add(value);
            });
            calls.await(scripts.run(LuaScript.DEFINE, new String[] {keys.definition(), keys.flow()}, fields.toArray(String[]::new)),
                    "publish task " + definition.id() + (published == null || published.isEmpty() ? ""
                            : " (its published definition differs from this app's, so it must be written)"));
        }
        Boolean registered = readChecked(commands.sismember(Keys.TASK_REGISTRY, definition.id()).toCompletableFuture(),
                Keys.TASK_REGISTRY, "set", "look up task " + definition.id() + " in " + Keys.TASK_REGISTRY);
        if (!Boolean.TRUE.equals(registered)) {
            calls.await(commands.sadd(Keys.TASK_REGISTRY, definition.id()).toCompletableFuture(), "register task " + definition.id());
        }
    }

    /**
     * Waits for a read of one key; when Redis refuses it because the key holds another type,
     * the error names the key and what it holds (Redis' own WRONGTYPE message names neither).
     */
    private <T> T readChecked(CompletableFuture<T> read, String key, String expected, String what) {
        try {
            return calls.await(read, what);
        } catch (TaskpoolException e) {
            if (RedisCalls.repliedWith(e, "WRONGTYPE")) {
                String held = calls.await(commands.type(key).toCompletableFuture(), "read the type of " + key);
                throw new TaskpoolException("cannot " + what + ": key " + key + " holds a " + held + ", expected a "
                        + expected + "; nothing was changed (repair or delete the key)", e);
            }
            throw e;
        }
    }

    /** The published definition's fields, or empty when no runtime has published this task. */
    public Optional<Map<String, String>> publishedDefinition(String task) {
        Map<String, String> fields = calls.await(commands.hgetall(Keys.of(task).definition()).toCompletableFuture(),
                "read the definition of task " + task);
        return fields == null || fields.isEmpty() ? Optional.empty() : Optional.of(fields);
    }

    /**
     * The published definition's fields, or empty when no runtime has published this task, without
     * blocking: fails with a {@link TaskpoolException} naming the task when Redis cannot be read.
     */
    public CompletableFuture<Optional<Map<String, String>>> publishedDefinitionAsync(String task) {
        return commands.hgetall(Keys.of(task).definition()).toCompletableFuture()
                .handle((fields, error) -> {
                    if (error != null) {
                        throw calls.failure(RedisCalls.unwrap(error), "read the definition of task " + task);
                    }
                    return fields == null || fields.isEmpty() ? Optional.<Map<String, String>>empty() : Optional.of(fields);
                });
    }

    /**
     * As {@link #add}, without holding the calling thread while Redis answers (see
     * {@code AddSender.settleAsync}): the future completes on Lettuce's I/O thread with the
     * result, or fails with what {@link #add} would throw.
     */
    public CompletableFuture<AddResult> addAsync(String task, Long id, String argsJson, long now) {
        return addWithAsync(task, id, argsJson, AddOptions.none(), now);
    }

    /** As {@link #addAsync}, with {@code options} (a due time: see {@link #addWith}). */
    public CompletableFuture<AddResult> addWithAsync(String task, Long id, String argsJson, AddOptions options, long now) {
        List<NewTask> tasks = List.of(new NewTask(id, argsJson));
        try {
            requireValid(task, tasks);
            Objects.requireNonNull(options, "options");
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return adds.settleAsync(adds.newRequest(task, tasks, options, now), now)
                .thenApply(ids -> AddResult.ofReplyId(task, ids.isEmpty() ? 0 : ids.getFirst()));
    }

    /**
     * Adds a task. {@code id} null takes the next value of the task's counter.
     *
     * @throws UnknownTaskException        when no runtime has published the task
     * @throws AddOutcomeUnknownException  when Redis did not answer within the add deadline
     * @throws TaskpoolException           when the id is taken, a key is wrong-typed or Redis is full
     */
    public AddResult add(String task, Long id, String argsJson, long now) {
        return addWith(task, id, argsJson, AddOptions.none(), now);
    }

    /**
     * As {@link #add}, with {@code options}. A task whose due time ({@code now} is Redis' time, see
     * {@code RedisClock}) is later than Redis' time when the add is applied waits in the kind's
     * delayed set, WAITING with {@code due_at} in its hash, until a fetch moves it to the queue; it
     * counts against {@code size} meanwhile.
     */
    public AddResult addWith(String task, Long id, String argsJson, AddOptions options, long now) {
        requireValid(task, List.of(new NewTask(id, argsJson)));
        Objects.requireNonNull(options, "options");
        List<Long> ids = adds.settle(adds.newRequest(task, List.of(new NewTask(id, argsJson)), options, now), now);
        return AddResult.ofReplyId(task, ids.isEmpty() ? 0 : ids.getFirst());
    }

    /**
     * Adds tasks, all or nothing for up to {@link AddRequest#CHUNK} of them (one script call).
     * Either every one is enqueued (their ids are returned in order), or none is: an empty list
     * when the queue cannot take them all. A bigger batch goes as chunks of that size in order,
     * each atomic and idempotent on its own; the first chunk admits the whole batch against
     * {@code size}. A send without reply is sent again under the same request id until Redis
     * answers or the add deadline passes, so a timeout never adds twice.
     *
     * @throws UnknownTaskException        when no runtime has published the task
     * @throws AddOutcomeUnknownException  when Redis did not answer within the add deadline
     * @throws AddIncompleteException      when a chunk after the first added ones was refused
     * @throws TaskpoolException           when an id is taken, a key is wrong-typed or Redis is full (nothing is written)
     */
    public List<Long> addAll(String task, List<NewTask> tasks, long now) {
        return addAll(task, tasks, AddOptions.none(), now);
    }

    /** As {@link #addAll(String, List, long)}, every task with {@code options} (one due time for the batch). */
    public List<Long> addAll(String task, List<NewTask> tasks, AddOptions options, long now) {
        requireValid(task, tasks);
        Objects.requireNonNull(options, "options");
        if (tasks.isEmpty()) {
            return List.of();
        }
        return positive(adds.settle(adds.newRequest(task, tasks, options, now), now));
    }

    /** The ids of a batch, a duplicate's (negated in the pipeline: see {@link AddResult#ofReplyId}) as the id it names. */
    private static List<Long> positive(List<Long> ids) {
        return ids.stream().anyMatch(id -> id < 0) ? ids.stream().map(Math::abs).toList() : ids;
    }

    private static void requireValid(String task, List<NewTask> tasks) {
        TaskIds.requireValid(task);
        for (NewTask item : tasks) {
            if (item.id() != null) {
                TaskIds.requireValidNumber(task, item.id());
            }
        }
    }

    /**
     * Sends an add whose outcome was unknown again, under its request id: returns the ids it got if
     * it had been applied, else applies it once (an empty list when the queue is full now).
     *
     * @throws AddOutcomeUnknownException when Redis again did not answer within the add deadline
     * @throws TaskpoolException          when it is past {@link AddRequest#retryBefore()}
     */
    public List<Long> retryAdd(AddRequest request, long now) {
        requireValid(request.task(), request.tasks());
        return positive(adds.settle(request, now));
    }

    /** How long an add keeps re-sending without reply before it throws {@link AddOutcomeUnknownException}. */
    public Duration addDeadline() {
        return adds.deadline();
    }

    /** How long Redis remembers an add request id (the record {@code taskpool:{T}:req:<id>}). */
    public Duration addRequestMemory() {
        return adds.requestMemory();
    }

    public static UnknownTaskException unknownTask(String task) {
        return new UnknownTaskException("unknown task '" + task + "': no runtime has published it to Redis"
                + " (start a worker or run a process with the app that defines tasks/" + task.replace('.', '/') + ".yao)");
    }
}
