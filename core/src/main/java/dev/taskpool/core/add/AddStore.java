package dev.taskpool.core.add;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
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
    private final KindLayouts layouts;

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
        this.layouts = new KindLayouts(redis);
    }

    /** The kinds' layouts as this store last read them (a partitioned kind's adds go to its partitions in turn). */
    public KindLayouts layouts() {
        return layouts;
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
        Keys home = Keys.of(definition.id());
        Map<String, String> published = readChecked(commands.hgetall(home.definition()).toCompletableFuture(),
                home.definition(), "hash", "read the published definition of task " + definition.id());
        KindLayout before = KindLayout.fromDefinition(definition.id(), published);
        if (definition.partitions() == 1 && !before.partitioned()) {
            define(home, definition.toPublishedFields(), published, definition.id());
        } else {
            publishPartitions(definition, before, published);
        }
        Boolean registered = readChecked(commands.sismember(Keys.TASK_REGISTRY, definition.id()).toCompletableFuture(),
                Keys.TASK_REGISTRY, "set", "look up task " + definition.id() + " in " + Keys.TASK_REGISTRY);
        if (!Boolean.TRUE.equals(registered)) {
            calls.await(commands.sadd(Keys.TASK_REGISTRY, definition.id()).toCompletableFuture(), "register task " + definition.id());
        }
    }

    /**
     * Publishes a partitioned kind (or one that was): the layout grown to the definition's
     * {@code partitions} (never shrunk: a partition that takes no adds any more is served until
     * it is empty), then every partition's definition with its share of {@code size},
     * {@code max_running} and the rate (over all its partitions), and its id scheme; partition 0's last, with the layout,
     * so that no process adds to a partition before it has its definition.
     */
    private void publishPartitions(TaskDefinition definition, KindLayout before, Map<String, String> homePublished) {
        KindLayout layout = redis.isCluster()
                ? before.withAdding(Math.max(definition.partitions(), 1), redis::masterOfSlot, redis.masters())
                : before.withAdding(definition.partitions(), null, null);
        String seq = calls.await(commands.get(layout.home().sequence()).toCompletableFuture(),
                "read the id counter of task " + definition.id());
        // A new partition of a paused kind starts paused (pause and resume act on every partition).
        String paused = layout.partitions().size() > before.partitions().size() ? calls.await(
                commands.get(layout.home().paused()).toCompletableFuture(), "read whether task " + definition.id() + " is paused")
                : null;
        long floor = (seq == null || !seq.matches("\\d{1,15}") ? 0 : Long.parseLong(seq)) + 1000;
        for (int k = layout.partitions().size() - 1; k >= 0; k--) {
            Keys keys = layout.partition(k);
            Map<String, String> published = k == 0 ? homePublished : readChecked(
                    commands.hgetall(keys.definition()).toCompletableFuture(), keys.definition(), "hash",
                    "read the published definition of partition " + keys.partition());
            Map<String, String> wanted = definition.partitionShare(k, layout.partitions().size()).toPublishedFields();
            wanted.put("partition", Integer.toString(k));
            wanted.put("id_stride", Integer.toString(KindLayout.ID_STRIDE));
            String offset = published == null ? null : published.get("id_offset");
            wanted.put("id_offset", k == 0 ? "0" : offset != null ? offset
                    : Long.toString(k + KindLayout.ID_STRIDE * floor));
            if (k == 0) {
                wanted.putAll(layout.publishedFields());
            }
            if (paused != null && k >= before.partitions().size()) {
                calls.await(commands.setnx(keys.paused(), paused).toCompletableFuture(), "pause partition " + keys.partition());
            }
            define(keys, wanted, published, keys.partition());
        }
    }

    private void define(Keys keys, Map<String, String> wanted, Map<String, String> published, String what) {
        if (wanted.equals(published)) {
            return;
        }
        List<String> fields = new ArrayList<>();
        wanted.forEach((field, value) -> {
            fields.add(field);
            fields.add(value);
        });
        calls.await(scripts.run(LuaScript.DEFINE, new String[] {keys.definition(), keys.flow()}, fields.toArray(String[]::new)),
                "publish task " + what + (published == null || published.isEmpty() ? ""
                        : " (its published definition differs from this app's, so it must be written)"));
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
        return layouts.withEntry(task, entry -> adds.settleAsync(adds.newRequest(partitionOf(task, entry, tasks, options),
                        tasks, options, now), now))
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
        List<NewTask> tasks = List.of(new NewTask(id, argsJson));
        List<Long> ids = adds.settle(adds.newRequest(partitionOf(task, tasks, options), tasks, options, now), now);
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
        KindLayouts.Entry entry = layouts.entry(task);
        if (entry.layout().partitioned() && (entry.uniqueByArgs() || tasks.stream().anyMatch(item -> item.id() != null))) {
            return addAcrossPartitions(task, entry, tasks, options, now);
        }
        return positive(adds.settle(adds.newRequest(partitionOf(task, tasks, options), tasks, options, now), now));
    }

    /**
     * The partition an add of {@code tasks} goes to (its name, which {@link Keys#of} takes): the
     * kind itself unless it is partitioned; else the one its unique key (or, for a kind unique by
     * its arguments, its arguments) or its given id names, or the kind's adding partitions in turn.
     */
    private String partitionOf(String task, List<NewTask> tasks, AddOptions options) {
        return partitionOf(task, layouts.entry(task), tasks, options);
    }

    private String partitionOf(String task, KindLayouts.Entry entry, List<NewTask> tasks, AddOptions options) {
        KindLayout layout = entry.layout();
        if (!layout.partitioned()) {
            return task;
        }
        int k;
        if (options.uniqueKey().isPresent()) {
            k = layout.numberOfKey(options.uniqueKey().get());
        } else if (tasks.size() == 1 && tasks.getFirst().id() != null) {
            k = layout.numberOfId(tasks.getFirst().id());
        } else if (tasks.size() == 1 && entry.uniqueByArgs()) {
            k = layout.numberOfKey(tasks.getFirst().argsJson());
        } else {
            k = layouts.nextTurn(task, layout);
        }
        return layout.partitions().get(k);
    }

    /**
     * A batch of a partitioned kind whose tasks name their partitions (given ids, or a kind unique
     * by its arguments): one batch per partition, in partition order, each all or nothing. When a
     * later one is refused after earlier ones were added, the error names the ids added.
     */
    private List<Long> addAcrossPartitions(String task, KindLayouts.Entry entry, List<NewTask> tasks, AddOptions options,
                                           long now) {
        KindLayout layout = entry.layout();
        Map<Integer, List<Integer>> positions = new java.util.TreeMap<>();
        for (int i = 0; i < tasks.size(); i++) {
            NewTask item = tasks.get(i);
            int k = item.id() != null ? layout.numberOfId(item.id())
                    : entry.uniqueByArgs() ? layout.numberOfKey(item.argsJson()) : layouts.nextTurn(task, layout);
            positions.computeIfAbsent(k, ignored -> new ArrayList<>()).add(i);
        }
        Long[] ids = new Long[tasks.size()];
        List<Long> added = new ArrayList<>();
        for (var group : positions.entrySet()) {
            List<NewTask> part = group.getValue().stream().map(tasks::get).toList();
            List<Long> got;
            try {
                got = positive(adds.settle(adds.newRequest(layout.partitions().get(group.getKey()), part, options, now), now));
            } catch (TaskpoolException e) {
                if (added.isEmpty()) {
                    throw e;
                }
                throw new TaskpoolException("only " + added.size() + " of the " + tasks.size() + " tasks of task " + task
                        + " were added (ids " + added + "), the rest were not: " + e.getMessage(), e);
            }
            if (got.isEmpty()) {
                if (added.isEmpty()) {
                    return List.of();
                }
                throw new TaskpoolException("only " + added.size() + " of the " + tasks.size() + " tasks of task " + task
                        + " were added (ids " + added + "): partition " + group.getKey() + "'s share of size is full");
            }
            for (int n = 0; n < got.size(); n++) {
                ids[group.getValue().get(n)] = got.get(n);
                added.add(got.get(n));
            }
        }
        return List.of(ids);
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
        requireValid(Keys.of(request.task()).task(), request.tasks());
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
