package dev.taskpool.core.ops;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.lua.EventMode;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What operators read and do: the kinds, their counts, the live workers, listings by status, and
 * the control actions (retry, cancel, pause/resume, run now, delete). Every listing reads a per-kind index
 * (the waiting list, the leases, the {@code succeeded} list, the {@code failed} sorted set), never a SCAN of
 * the keyspace; every action is one Lua script that touches one kind's slot and publishes an event.
 * A refused action throws {@link ControlException} and changes nothing.
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
    }

    // ---- Reading ----

    /** The task kinds runtimes have published ({@code SMEMBERS taskpool:tasks}), sorted. */
    public List<String> kinds() {
        return await(commands.smembers(Keys.TASK_REGISTRY).toCompletableFuture(), "list the task kinds in " + Keys.TASK_REGISTRY)
                .stream().sorted().toList();
    }

    /** The counts of every published kind, in the order of {@link #kinds()}. */
    public List<KindStats> stats() {
        return kinds().stream().map(this::stats).toList();
    }

    /**
     * The counts of one kind; reads a few keys of its slot, pipelined. A key of the kind holding
     * the wrong type (written by hand) is an error naming the key and what it holds.
     */
    public KindStats stats(String task) {
        Keys keys = known(task);
        try {
            return statsReader.read(keys);
        } catch (TaskpoolException e) {
            throw KindKeyTypes.named(commands, keys, e, calls);
        }
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

    /** A task's record; empty when there is none (never added, deleted, or expired). */
    public Optional<TaskInfo> task(String task, long id) {
        return new TaskFields(commands, calls).task(task, id);
    }

    /** Fields of a task's hash by name, in the order asked; those absent or empty are left out. */
    public Map<String, String> fields(String task, long id, String... names) {
        return new TaskFields(commands, calls).fields(task, id, names);
    }

    /** As {@link #fields(String, long, String...)}, for many tasks of a kind at once (pipelined). */
    public List<Map<String, String>> fields(String task, List<Long> ids, String... names) {
        return new TaskFields(commands, calls).fields(task, ids, names);
    }

    /**
     * Deletes every key of a kind and takes it off the published kinds: the benchmark's clean-up.
     * Not atomic: for a kind no worker serves and nobody adds to any more.
     */
    public void erase(String task) {
        KindErasure.erase(redis.sync(), task);
    }

    /**
     * One page of a kind's tasks in {@code status}, newest first: WAITING from the delayed set
     * (latest due first) and then the queues of priority 0 to 3 (each newest added first), the reverse
     * of the order they will start in; RUNNING from the leases (latest lease deadline first), SUCCESS and
     * FAILURE from their indexes (latest finished first). Ids whose hash has expired are skipped.
     *
     * @param limit how many tasks, 1 to {@link #MAX_PAGE}
     * @param after the {@code nextCursor} of the previous page, or null for the first page
     */
    public TaskPage list(String task, TaskStatus status, int limit, String after) {
        Keys keys = known(task);
        if (status == null) {
            throw new IllegalArgumentException("a listing needs a status: one of WAITING, RUNNING, SUCCESS, FAILURE");
        }
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit " + limit + " is out of range: a page lists 1 to " + MAX_PAGE + " tasks");
        }
        return listings.page(keys, status, limit, after);
    }

    // ---- Control ----

    /** A FAILURE task goes back to WAITING with a fresh run budget; its previous error stays in {@code previous_error}. */
    public void retry(String task, long id, String by) {
        control.retry(known(task), validId(task, id), by(by), clock.millis());
    }

    /** Every FAILURE task of the kind still retained goes back to WAITING; returns how many. */
    public int retryFailed(String task, String by) {
        return control.retryFailed(known(task), by(by), clock.millis());
    }

    /**
     * Ends a WAITING or RUNNING task in FAILURE with the error "canceled" (" by {@code by}" when
     * given); a RUNNING task's run is stopped by its worker within about a second, and the task's
     * {@code error} handler runs once, on a worker.
     */
    public void cancel(String task, long id, String by) {
        control.cancel(known(task), validId(task, id), by(by), clock.millis());
    }

    /** Workers take no task of this kind until {@link #resume}; adds are still accepted, running tasks finish. */
    public void pause(String task, String by) {
        control.pause(known(task), by(by), clock.millis());
    }

    /** Workers take tasks of this kind again (idle ones are woken at once). */
    public void resume(String task, String by) {
        control.resume(known(task), by(by), clock.millis());
    }

    /**
     * Runs a delayed task now: it leaves the delayed set for the front of the queue, so it is the
     * next of its kind to start (once the kind is resumed, if paused), and an idle worker is woken.
     * Refused for a task that is not delayed: unknown, RUNNING, finished, or ready in the queue.
     */
    public void runNow(String task, long id, String by) {
        control.runNow(known(task), validId(task, id), by(by), clock.millis());
    }

    /** Removes a finished (SUCCESS or FAILURE) task: its hash and its index entry. */
    public void delete(String task, long id) {
        control.delete(known(task), validId(task, id), clock.millis());
    }

    private static long validId(String task, long id) {
        TaskIds.requireValidNumber(task, id);
        return id;
    }

    private static String by(String by) {
        return by == null ? "" : by;
    }

    /** The kind's keys; an unknown kind (never published) is an error naming it. */
    private Keys known(String task) {
        Keys keys = Keys.of(task);
        Boolean published = await(commands.sismember(Keys.TASK_REGISTRY, task).toCompletableFuture(),
                "look up task " + task + " in " + Keys.TASK_REGISTRY);
        if (!Boolean.TRUE.equals(published)) {
            throw AddStore.unknownTask(task);
        }
        return keys;
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
