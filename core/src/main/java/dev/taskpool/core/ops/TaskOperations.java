package dev.taskpool.core.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * What operators read and do: the kinds, their counts, the live workers, listings by status, and
 * the control actions (retry, cancel, pause/resume, delete). Every listing reads a per-kind index
 * (the waiting list, the leases, the {@code succeeded} list, the {@code failed} sorted set), never a SCAN of
 * the keyspace; every action is one Lua script that touches one kind's slot and publishes an event.
 * A refused action throws {@link ControlException} and changes nothing.
 */
public final class TaskOperations {
    /** The most tasks one page lists. */
    public static final int MAX_PAGE = 1000;
    private static final long THROUGHPUT_WINDOW_MS = 60_000;
    /** A cursor of a finished listing, and an entry of the `succeeded` list: "<ms>:<id>". */
    private static final Pattern TIMED_ID = Pattern.compile("\\d{1,16}:[1-9]\\d{0,15}");

    private final RedisConnector redis;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final Clock clock;
    private final RedisCalls calls;
    private final ControlScripts control;

    public TaskOperations(RedisConnector redis) {
        this(redis, Clock.systemUTC());
    }

    public TaskOperations(RedisConnector redis, Clock clock) {
        this.redis = redis;
        this.commands = redis.async();
        this.clock = clock;
        // operators read a full Redis in the same words wherever it refuses them
        this.calls = new RedisCalls(redis, true);
        this.control = new ControlScripts(new ScriptRunner(redis.async()), calls);
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
            return readStats(keys);
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

    private KindStats readStats(Keys keys) {
        String task = keys.task();
        long now = clock.millis();
        Range<Double> lastMinute = Range.create((double) (now - THROUGHPUT_WINDOW_MS), (double) now);
        var waiting = commands.llen(keys.waiting()).toCompletableFuture();
        var running = commands.zcard(keys.leases()).toCompletableFuture();
        var counters = commands.hgetall(keys.stats()).toCompletableFuture();
        // An index is pruned when a batch writes to it: entries past retention may linger in one
        // that is not written for a while, so what is retained is counted by time.
        String keepText = await(commands.hget(keys.definition(), "keep").toCompletableFuture(), "read the retention of task " + task);
        long keepMs = keepText != null && keepText.matches("\\d{1,12}") ? Long.parseLong(keepText) * 1000 : 86_400_000L;
        Range<Double> retained = Range.create((double) (now - keepMs), Double.POSITIVE_INFINITY);
        var failed = commands.zcount(keys.failed(), retained).toCompletableFuture();
        var paused = commands.get(keys.paused()).toCompletableFuture();
        var oldest = commands.lindex(keys.waiting(), -1).toCompletableFuture();
        var failedLately = commands.zcount(keys.failed(), lastMinute).toCompletableFuture();
        String what = "read the counts of task " + task;
        long succeeded = finishedSince(keys.succeeded(), now - keepMs, what);
        long succeededLately = finishedSince(keys.succeeded(), now - THROUGHPUT_WINDOW_MS, what);
        Map<String, String> hash = await(counters, what);
        String pausedJson = await(paused, what);
        String pausedBy = null;
        if (pausedJson != null) {
            JsonNode record = parsePaused(keys, pausedJson);
            pausedBy = record.path("by").isTextual() ? record.path("by").asText() : "";
        }
        long oldestAge = -1;
        String oldestId = await(oldest, what);
        if (oldestId != null) {
            String createdAt = await(commands.hget(keys.taskPrefix() + oldestId, "created_at").toCompletableFuture(), what);
            if (createdAt != null && createdAt.matches("\\d+")) {
                oldestAge = Math.max(0, now - Long.parseLong(createdAt));
            }
        }
        double perSecond = (succeededLately + await(failedLately, what)) / (THROUGHPUT_WINDOW_MS / 1000.0);
        return new KindStats(task, await(waiting, what), await(running, what),
                counter(keys, hash, "succeeded"), counter(keys, hash, "failed"), counter(keys, hash, "retried"),
                counter(keys, hash, "recovered"), counter(keys, hash, "canceled"), counter(keys, hash, "added"),
                succeeded, await(failed, what), pausedJson != null, pausedBy, oldestAge, perSecond);
    }

    /** How many entries of a {@code succeeded} list finished at or after {@code since}. */
    private long finishedSince(String key, long since, String what) {
        long length = succeededLength(key, what);
        return length - firstFinishedAtOrAfter(key, since, length, what);
    }

    private static TaskpoolException olderIndex(String key, Exception cause) {
        return new TaskpoolException(key + " is still the sorted set an older taskpool wrote; a worker of this"
                + " version turns it into the list this command reads at its next finish or recovery of the kind", cause);
    }

    /**
     * The length of a {@code succeeded} list. One left as a sorted set by an older taskpool (until a
     * worker of this version converts it at its next finish or recover) is named as such.
     */
    private long succeededLength(String key, String what) {
        try {
            return await(commands.llen(key).toCompletableFuture(), what);
        } catch (TaskpoolException e) {
            String held = await(commands.type(key).toCompletableFuture(), "read the type of " + key);
            if ("zset".equals(held)) {
                throw olderIndex(key, e);
            }
            if (!"list".equals(held) && !"none".equals(held)) {
                throw new TaskpoolException(key + " holds " + KindKeyTypes.describe(held) + ", expected a list"
                        + " (of the SUCCESS tasks; written by hand?)", e);
            }
            throw e;
        }
    }

    /**
     * The index of the first entry of a {@code succeeded} list ({@code "<finished_at>:<id>"}, oldest at
     * the left) that finished at or after {@code since}, {@code length} when none did: found by bisection
     * (a few LINDEX reads; entries are in finish order, as the workers' clocks give it).
     */
    private long firstFinishedAtOrAfter(String key, long since, long length, String what) {
        if (length == 0 || finishedAt(await(commands.lindex(key, 0).toCompletableFuture(), what)) >= since) {
            return 0;   // none older: the usual case for what is retained, as the scripts prune it
        }
        long low = 1;   // the first entry is older
        long high = length;
        while (low < high) {
            long middle = (low + high) >>> 1;
            String entry = await(commands.lindex(key, middle).toCompletableFuture(), what);
            // None there: a prune shortened the list since its length was read; what is left is newer.
            if (entry == null || finishedAt(entry) >= since) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        return low;
    }

    /** The time of a {@code succeeded} entry; 0 for one that is no {@code "<ms>:<id>"} (it counts as old). */
    static long finishedAt(String entry) {
        int colon = entry == null ? -1 : entry.indexOf(':');
        if (colon < 1 || colon > 16) {
            return 0;
        }
        try {
            return Long.parseLong(entry.substring(0, colon));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static JsonNode parsePaused(Keys keys, String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            // Written by hand: the key's presence is what pauses; who paused it is unknown.
            return Json.NODES.objectNode();
        }
    }

    private static long counter(Keys keys, Map<String, String> hash, String field) {
        String value = hash.get(field);
        if (value == null) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new TaskpoolException(keys.stats() + " field " + field + " holds '" + value + "', expected an integer");
        }
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
     * One page of a kind's tasks in {@code status}, newest first: WAITING from the waiting list
     * (newest added first), RUNNING from the leases (latest lease deadline first), SUCCESS and
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
        return switch (status) {
            case WAITING -> new WaitingListing(keys, limit).page(after);
            case RUNNING -> new SortedListing(keys, keys.leases(), limit).page(after);
            case SUCCESS -> new FinishedListing(keys, limit).page(after);
            case FAILURE -> new SortedListing(keys, keys.failed(), limit).page(after);
        };
    }

    /** A task's record, or null when its hash is gone. */
    private TaskInfo read(Keys keys, String id) {
        if (!id.matches("[1-9]\\d{0,15}")) {
            return null;   // an entry that is no task id; the scripts drop such entries
        }
        Map<String, String> hash = await(commands.hgetall(keys.taskPrefix() + id).toCompletableFuture(),
                "read task " + keys.task() + " #" + id);
        return hash == null || hash.isEmpty() ? null : TaskInfo.fromHash(keys.task(), Long.parseLong(id), hash);
    }

    /** Pages of the waiting list, left (newest) to right; the cursor is the last id listed. */
    private final class WaitingListing {
        private final Keys keys;
        private final int limit;

        WaitingListing(Keys keys, int limit) {
            this.keys = keys;
            this.limit = limit;
        }

        TaskPage page(String after) {
            long start = 0;
            if (after != null) {
                if (!after.matches("w[1-9]\\d{0,15}")) {
                    throw badCursor(after, "a WAITING", "w<id>");
                }
                Long position = await(commands.lpos(keys.waiting(), after.substring(1)).toCompletableFuture(),
                        "find the cursor in " + keys.waiting());
                if (position == null) {
                    // The task it names was taken from the queue, and with it every older one.
                    return new TaskPage(List.of(), null);
                }
                start = position + 1;
            }
            List<TaskInfo> tasks = new ArrayList<>();
            String lastId = null;
            boolean more = false;
            Set<String> seenWindows = new HashSet<>();
            // A cursor gone from a list a little out of time order can resume at entries listed already.
            Set<String> listed = new HashSet<>();
            while (!more) {
                List<String> ids = await(commands.lrange(keys.waiting(), start, start + limit).toCompletableFuture(),
                        "list " + keys.waiting());
                for (String id : ids) {
                    TaskInfo info = read(keys, id);
                    if (info == null) {
                        continue;
                    }
                    if (tasks.size() == limit) {
                        more = true;
                        break;
                    }
                    tasks.add(info);
                    lastId = id;
                }
                if (ids.size() <= limit) {
                    break;   // the end of the list
                }
                start += ids.size();
            }
            return new TaskPage(tasks, more ? "w" + lastId : null);
        }
    }

    /**
     * Pages of a sorted set, highest score first (ties: the higher member first, as Redis orders
     * them); the cursor {@code <score>:<id>} is the last entry listed, and the next page starts
     * after it.
     */
    private final class SortedListing {
        private final Keys keys;
        private final String key;
        private final int limit;

        SortedListing(Keys keys, String key, int limit) {
            this.keys = keys;
            this.key = key;
            this.limit = limit;
        }

        TaskPage page(String after) {
            double max = Double.POSITIVE_INFINITY;
            String afterId = null;
            if (after != null) {
                if (!TIMED_ID.matcher(after).matches()) {
                    throw badCursor(after, "this", "<score>:<id>");
                }
                int colon = after.indexOf(':');
                max = Long.parseLong(after.substring(0, colon));
                afterId = after.substring(colon + 1);
            }
            List<TaskInfo> tasks = new ArrayList<>();
            String cursor = null;
            boolean more = false;
            long offset = 0;
            int batch = limit + 1;
            while (!more) {
                List<ScoredValue<String>> entries = await(commands.zrevrangebyscoreWithScores(key,
                        Range.create(Double.NEGATIVE_INFINITY, max), Limit.create(offset, batch)).toCompletableFuture(),
                        "list " + key);
                for (ScoredValue<String> entry : entries) {
                    String id = entry.getValue();
                    if (afterId != null && entry.getScore() == max && id.compareTo(afterId) >= 0) {
                        continue;   // listed on an earlier page
                    }
                    TaskInfo info = read(keys, id);
                    if (info == null) {
                        continue;
                    }
                    if (tasks.size() == limit) {
                        more = true;
                        break;
                    }
                    tasks.add(info);
                    cursor = String.format("%d:%s", (long) entry.getScore(), id);
                }
                if (entries.size() < batch) {
                    break;
                }
                offset += entries.size();
            }
            return new TaskPage(tasks, more ? cursor : null);
        }
    }

    /**
     * Pages of the {@code succeeded} list, newest (right) first; the cursor {@code <finished_at>:<id>}
     * is the last entry listed (the entry itself), and the next page starts after it. When that entry
     * was pruned or deleted in between, the next page starts at the first entry finished before it.
     */
    private final class FinishedListing {
        private final Keys keys;
        private final int limit;

        FinishedListing(Keys keys, int limit) {
            this.keys = keys;
            this.limit = limit;
        }

        TaskPage page(String after) {
            String key = keys.succeeded();
            String what = "list " + key;
            if (after != null && !TIMED_ID.matcher(after).matches()) {
                throw badCursor(after, "this", "<finished_at>:<id>");
            }
            List<TaskInfo> tasks = new ArrayList<>();
            String cursor = null;
            String from = after == null ? "" : after;
            boolean more = false;
            Set<String> seenWindows = new HashSet<>();
            // A cursor gone from a list a little out of time order can resume at entries listed already.
            Set<String> listed = new HashSet<>();
            while (!more) {
                // One script reads the window left of `from`, so a prune cannot shift it in between.
                List<Object> window;
                try {
                    window = await(new ScriptRunner(redis.async()).run(LuaScript.SUCCEEDED_PAGE, new String[] {key},
                            from, Integer.toString(limit + 1)), what);
                } catch (TaskpoolException e) {
                    // The script's own type check: a sorted set left by an older version is named as such.
                    throw String.valueOf(e.getMessage()).contains("holds a sorted set") ? olderIndex(key, e) : e;
                }
                if (window.isEmpty()) {
                    break;
                }
                for (int i = window.size() - 1; i >= 0; i--) {
                    String entry = (String) window.get(i);
                    // An entry that is no "<finished_at>:<id>" (written by hand) is skipped: it could not be a cursor.
                    TaskInfo info = TIMED_ID.matcher(entry).matches() && listed.add(entry)
                            ? read(keys, entry.substring(entry.indexOf(':') + 1)) : null;
                    if (info == null) {
                        continue;   // expired (not pruned yet), deleted, or no entry taskpool wrote
                    }
                    if (tasks.size() == limit) {
                        more = true;
                        break;
                    }
                    tasks.add(info);
                    cursor = entry;
                }
                String next = (String) window.getFirst();
                if (!seenWindows.add(next)) {
                    break;   // entries written by hand out of order led back to a window already read
                }
                from = next;
            }
            return new TaskPage(tasks, more ? cursor : null);
        }
    }

    private TaskpoolException badCursor(String cursor, String listing, String form) {
        return new TaskpoolException("cursor '" + cursor + "' is not one " + listing + " listing gives (expected " + form
                + ", the nextCursor of the previous page)");
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

    /** Waits for a reply; failures become errors that say what was being done (see {@link RedisCalls#await}). */
    <T> T await(CompletableFuture<T> future, String what) {
        return calls.await(future, what);
    }

    /** How this waits for replies, for the readers that work for it. */
    RedisCalls calls() {
        return calls;
    }
}
