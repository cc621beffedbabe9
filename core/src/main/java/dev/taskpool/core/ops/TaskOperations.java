package dev.taskpool.core.ops;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.lua.EventMode;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import io.lettuce.core.KeyValue;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * What operators read and do: the kinds, their counts, the live workers, listings by status, and
 * the control actions (retry, cancel, pause/resume, run now, delete). Every listing reads a per-kind index
 * (the waiting list, the leases, the {@code succeeded} list, the {@code failed} sorted set), never a SCAN of
 * the keyspace; every action is one Lua script that touches one kind's slot and publishes an event.
 * A refused action throws {@link ControlException} and changes nothing.
 *
 * <p>A partitioned kind (see {@link KindLayout}) is answered for as a whole: its counts are summed
 * over its partitions (with a row per partition), its listings go through its partitions in
 * partition order, an action on one task runs in the partition that holds it (the one its id
 * names, else partition 0, where the tasks it had before it was partitioned stay), and pause,
 * resume and "retry the failed" run on every partition. Where a kind is named, a partition's name
 * ({@code mail.send~2}, as {@link PartitionStats#name()} gives it) names that partition alone. An
 * unpartitioned kind costs what it did before: its layout is read in the same round trip as the
 * check that the kind is published.
 */
public final class TaskOperations {
    /** The most tasks one page lists. */
    public static final int MAX_PAGE = 1000;

    private final RedisConnector redis;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final Clock clock;
    private final RedisCalls calls;
    private final ControlScripts control;
    private final KindStatsReader statsReader;
    private final TaskListings listings;
    private final TaskPlaces places;

    public TaskOperations(RedisConnector redis) {
        this(redis, redis.clock());
    }

    public TaskOperations(RedisConnector redis, Clock clock) {
        this.redis = redis;
        this.commands = redis.async();
        this.clock = clock;
        // operators read a full Redis in the same words wherever it refuses them
        this.calls = new RedisCalls(redis, true);
        ScriptRunner scripts = new ScriptRunner(redis.async());
        this.control = new ControlScripts(scripts, calls, EventMode.of(redis));
        this.statsReader = new KindStatsReader(commands, calls, clock);
        this.listings = new TaskListings(commands, calls, scripts);
        this.places = new TaskPlaces(new KindLayouts(redis), commands, calls);
    }

    // ---- Reading ----

    /** The task kinds runtimes have published ({@code SMEMBERS taskpool:tasks}), sorted. */
    public List<String> kinds() {
        return await(commands.smembers(Keys.TASK_REGISTRY).toCompletableFuture(), "list the task kinds in " + Keys.TASK_REGISTRY)
                .stream().sorted().toList();
    }

    /** Whether {@code text} names a kind ({@code mail.send}) or one partition of a kind ({@code mail.send~2}). */
    public static boolean isKindOrPartitionName(String text) {
        if (TaskIds.isValid(text)) {
            return true;
        }
        if (text == null || text.indexOf(Keys.PARTITION_MARK) < 0) {
            return false;
        }
        try {
            Keys.of(text);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The counts of every published kind, in the order of {@link #kinds()}. */
    public List<KindStats> stats() {
        return kinds().stream().map(this::stats).toList();
    }

    /**
     * The counts of one kind; reads a few keys of its slot, pipelined. A key of the kind holding
     * the wrong type (written by hand) is an error naming the key and what it holds. A partitioned
     * kind's are summed over its partitions, each read so, with a row per partition
     * ({@link KindStats#partitions()}); a partition's name gives that partition's counts, with its row.
     */
    public KindStats stats(String task) {
        KindScope scope = known(task);
        List<KindStats> parts = new ArrayList<>();
        for (Keys keys : scope.partitions()) {
            try {
                parts.add(statsReader.read(keys));
            } catch (TaskpoolException e) {
                throw KindKeyTypes.named(commands, keys, e, calls);
            }
        }
        if (!scope.several() && scope.only() == null) {
            return parts.getFirst();   // an unpartitioned kind: as ever
        }
        List<PartitionStats> rows = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            rows.add(row(scope.layout(), scope.partitions().get(i), parts.get(i)));
        }
        return scope.several() ? KindStats.sum(scope.kind(), parts, rows) : parts.getFirst().withPartitions(rows);
    }

    private PartitionStats row(KindLayout layout, Keys keys, KindStats part) {
        int number = Keys.partitionNumber(keys.partition());
        int slot = SlotHash.getSlot(keys.waiting());
        String master = null;
        if (redis.isCluster()) {
            try {
                master = redis.masterOfSlot(slot);
            } catch (TaskpoolException e) {
                // no master serves it right now (failing over): the row says none
            }
        }
        return new PartitionStats(number, keys.partition(), slot, master, number < layout.adding(), part.size(),
                part.waiting(), part.ready(), part.delayed(), part.running(), part.paused(), part.flow());
    }

    /**
     * Every kind's counts (a kind whose keys cannot be read is a row naming the key and what it
     * holds) and the live workers (a presence record that cannot be read is skipped with a note).
     * Only a Redis that cannot be reached at all fails it as a whole.
     */
    public Overview overview() {
        return new OverviewReader(this, commands).read();
    }

    /**
     * One kind's row of the {@link #overview()}: its counts, or, when a key of the kind holds the
     * wrong type, why they cannot be read (naming the key and what it holds). An unknown kind is an
     * {@link UnknownTaskException}; a Redis that cannot be read, or refuses the user, fails it.
     */
    public KindOverview overview(String task) {
        return new OverviewReader(this, commands).kind(task);
    }

    /**
     * The workers alive now (their presence record has not expired), sorted by id. A presence entry
     * that cannot be read (no JSON, the wrong type) is left out; {@link #overview} names it.
     */
    public List<WorkerInfo> workers() {
        return new WorkerPresence(commands, calls).read().workers();
    }

    /**
     * A task's record; empty when there is none (never added, deleted, or expired). Of a
     * partitioned kind, read in the partition its id names, else in partition 0.
     */
    public Optional<TaskInfo> task(String task, long id) {
        return new TaskFields(commands, calls, places).task(task, id);
    }

    /** Fields of a task's hash by name, in the order asked; those absent or empty are left out. */
    public Map<String, String> fields(String task, long id, String... names) {
        return new TaskFields(commands, calls, places).fields(task, id, names);
    }

    /** As {@link #fields(String, long, String...)}, for many tasks of a kind at once (pipelined). */
    public List<Map<String, String>> fields(String task, List<Long> ids, String... names) {
        return new TaskFields(commands, calls, places).fields(task, ids, names);
    }

    /**
     * Deletes every key of a kind (of every partition of it) and takes it off the published kinds:
     * the benchmark's clean-up. Not atomic: for a kind no worker serves and nobody adds to any more.
     */
    public void erase(String task) {
        KindErasure.erase(redis.sync(), task, places.freshLayout(Keys.of(task).task()).all());
    }

    /**
     * One page of a kind's tasks in {@code status}, newest first: WAITING from the delayed set
     * (latest due first) and then the queues of priority 0 to 3 (each newest added first), the reverse
     * of the order they will start in; RUNNING from the leases (latest lease deadline first), SUCCESS and
     * FAILURE from their indexes (latest finished first). Ids whose hash has expired are skipped.
     * A partitioned kind's are listed partition by partition, in partition order, each so; its
     * cursors name the partition too ({@code p<k>:} before the cursor, but in partition 0).
     *
     * @param limit how many tasks, 1 to {@link #MAX_PAGE}
     * @param after the {@code nextCursor} of the previous page, or null for the first page
     */
    public TaskPage list(String task, TaskStatus status, int limit, String after) {
        KindScope scope = known(task);
        if (status == null) {
            throw new IllegalArgumentException("a listing needs a status: one of WAITING, RUNNING, SUCCESS, FAILURE");
        }
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit " + limit + " is out of range: a page lists 1 to " + MAX_PAGE + " tasks");
        }
        return listings.page(scope.partitions(), status, limit, after);
    }

    // ---- Control ----

    /** A FAILURE task goes back to WAITING with a fresh run budget; its previous error stays in {@code previous_error}. */
    public void retry(String task, long id, String by) {
        onTask(known(task), validId(task, id), keys -> control.retry(keys, id, by(by), clock.millis()));
    }

    /** Every FAILURE task of the kind still retained (of every partition) goes back to WAITING; returns how many. */
    public int retryFailed(String task, String by) {
        int total = 0;
        for (Keys keys : known(task).partitions()) {
            total += control.retryFailed(keys, by(by), clock.millis(), total);
        }
        return total;
    }

    /**
     * Ends a WAITING or RUNNING task in FAILURE with the error "canceled" (" by {@code by}" when
     * given); a RUNNING task's run is stopped by its worker within about a second, and the task's
     * {@code error} handler runs once, on a worker.
     */
    public void cancel(String task, long id, String by) {
        onTask(known(task), validId(task, id), keys -> control.cancel(keys, id, by(by), clock.millis()));
    }

    /**
     * Workers take no task of this kind until {@link #resume}; adds are still accepted, running tasks
     * finish. Pauses every partition of a partitioned kind; refused only when all were paused already.
     */
    public void pause(String task, String by) {
        KindScope scope = known(task);
        List<String> already = new ArrayList<>();
        for (Keys keys : scope.partitions()) {
            String record = control.pause(keys, by(by), clock.millis());
            if (record != null) {
                already.add(record);
            }
        }
        if (already.size() == scope.partitions().size()) {
            throw new ControlException(named(scope) + " is already paused (" + already.getFirst() + "): nothing to pause");
        }
    }

    /**
     * Workers take tasks of this kind again (idle ones are woken at once). Resumes every paused
     * partition of a partitioned kind; refused only when none was paused.
     */
    public void resume(String task, String by) {
        KindScope scope = known(task);
        boolean resumed = false;
        for (Keys keys : scope.partitions()) {
            resumed |= control.resume(keys, by(by), clock.millis());
        }
        if (!resumed) {
            throw new ControlException(named(scope) + " is not paused: nothing to resume");
        }
    }

    /**
     * Runs a delayed task now: it leaves the delayed set for the front of the queue, so it is the
     * next of its kind to start (once the kind is resumed, if paused), and an idle worker is woken.
     * Refused for a task that is not delayed: unknown, RUNNING, finished, or ready in the queue.
     */
    public void runNow(String task, long id, String by) {
        onTask(known(task), validId(task, id), keys -> control.runNow(keys, id, by(by), clock.millis()));
    }

    /** Removes a finished (SUCCESS or FAILURE) task: its hash and its index entry. */
    public void delete(String task, long id) {
        onTask(known(task), validId(task, id), keys -> control.delete(keys, id, clock.millis()));
    }

    /**
     * Runs an action on one task in the partition that holds it: the one its id names, and, when
     * the task is not there, partition 0 (each a script of one partition; one for most kinds).
     */
    private static void onTask(KindScope scope, long id, Consumer<Keys> action) {
        List<Keys> places = scope.candidates(id);
        for (int i = 0; ; i++) {
            try {
                action.accept(places.get(i));
                return;
            } catch (ControlScripts.TaskMissing e) {
                if (i == places.size() - 1) {
                    throw e;
                }
            }
        }
    }

    /** "task mail", or "partition mail~2 of task mail" when one partition is named. */
    private static String named(KindScope scope) {
        return scope.only() == null ? "task " + scope.kind() : "partition " + scope.only().partition() + " of task " + scope.kind();
    }

    private static long validId(String task, long id) {
        TaskIds.requireValidNumber(task, id);
        return id;
    }

    private static String by(String by) {
        return by == null ? "" : by;
    }

    /**
     * What {@code name} names: a kind (with its layout, read in the same round trip as the check
     * that it is published), or one partition of it. An unknown kind (never published), or a
     * partition the kind does not have, is an error naming it.
     */
    private KindScope known(String name) {
        Keys named = Keys.of(name);
        String kind = named.task();
        CompletableFuture<Boolean> published = commands.sismember(Keys.TASK_REGISTRY, kind).toCompletableFuture();
        CompletableFuture<List<KeyValue<String, String>>> layoutFields = commands.hmget(Keys.of(kind).definition(),
                KindLayout.NAMES_FIELD, KindLayout.ADDING_FIELD).toCompletableFuture();
        Boolean registered = await(published, "look up task " + kind + " in " + Keys.TASK_REGISTRY);
        if (!Boolean.TRUE.equals(registered)) {
            throw AddStore.unknownTask(kind);
        }
        KindLayout layout;
        try {
            Map<String, String> fields = new HashMap<>();
            for (KeyValue<String, String> field : await(layoutFields, "read the partitions of task " + kind)) {
                if (field.hasValue()) {
                    fields.put(field.getKey(), field.getValue());
                }
            }
            layout = KindLayout.fromDefinition(kind, fields);
        } catch (TaskpoolException e) {
            if (!RedisCalls.repliedWith(e, "WRONGTYPE")) {
                throw e;
            }
            layout = KindLayout.single(kind);   // the definition is no hash: the reads that follow name it
        }
        if (!TaskPlaces.isPartitionName(name)) {
            return new KindScope(layout, null);
        }
        if (!layout.partitions().contains(name)) {
            throw new UnknownTaskException("task " + kind + " has no partition '" + name + "' (its partitions: "
                    + String.join(", ", layout.partitions()) + ")");
        }
        return new KindScope(layout, named);
    }

    /**
     * Asks Redis for a PING and returns how long its answer took: a liveness check (a health
     * indicator's) that needs no task kind. In a Cluster it goes to the node Lettuce chose for
     * commands without a key.
     *
     * @throws TaskpoolException when Redis did not answer within {@code timeout}, or failed
     */
    public Duration ping(Duration timeout) {
        long start = System.nanoTime();
        try {
            commands.ping().toCompletableFuture().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return Duration.ofNanos(System.nanoTime() - start);
        } catch (TimeoutException e) {
            throw new TaskpoolException("Redis at " + redis.describe() + " did not answer a PING within "
                    + Durations.text(timeout), e);
        } catch (ExecutionException e) {
            throw new TaskpoolException("Redis at " + redis.describe() + " failed a PING: "
                    + RedisConnector.rootMessage(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskpoolException("interrupted while waiting for Redis at " + redis.describe() + " to answer a PING", e);
        }
    }

    /** The Redis these operations reach, as its URL without the password (for logs and health reports). */
    public String redisDescription() {
        return redis.describe();
    }

    /** The clock the counts are read by: Redis' clock (as this process estimates it) unless a test gave another. */
    public Clock clock() {
        return clock;
    }

    /** Waits for a reply; failures become errors that say what was being done (see {@link RedisCalls#await}). */
    <T> T await(CompletableFuture<T> future, String what) {
        return calls.await(future, what);
    }

    /** How this waits for replies, for the readers that work for it. */
    RedisCalls calls() {
        return calls;
    }
}
