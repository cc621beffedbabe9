package dev.taskpool.core.ops;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The listings of {@link TaskOperations#list}: one pager that reads the tasks an index names, and
 * one source per status that reads that index window by window and says what cursor each entry
 * gives. Every listing reads a per-kind index, never a SCAN of the keyspace.
 *
 * <p>A partitioned kind is listed partition by partition, in partition order, each as a kind is;
 * a cursor in partition {@code k} ≥ 1 is {@code p<k>:} and the cursor it would have alone, one in
 * partition 0 is the cursor alone (so a cursor taken before the kind was partitioned still pages on).
 */
final class TaskListings {
    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;
    private final ScriptRunner scripts;

    TaskListings(RedisClusterAsyncCommands<String, String> commands, RedisCalls calls, ScriptRunner scripts) {
        this.commands = commands;
        this.calls = calls;
        this.scripts = scripts;
    }

    private static final Pattern PARTITION_CURSOR = Pattern.compile("p([1-9]\\d?):(.*)");

    /**
     * One page of the tasks in {@code status} of a kind's {@code partitions} (in partition order;
     * the kind itself alone for most kinds), newest first in each (see {@link TaskOperations#list}).
     */
    TaskPage page(List<Keys> partitions, TaskStatus status, int limit, String after) {
        if (partitions.size() == 1) {
            Keys keys = partitions.getFirst();
            return page(keys, source(keys, status, limit, after), limit);
        }
        int from = 0;
        String inner = after;
        Matcher named = after == null ? null : PARTITION_CURSOR.matcher(after);
        if (named != null && named.matches()) {
            from = Integer.parseInt(named.group(1));
            inner = named.group(2);
            if (from >= partitions.size()) {
                throw new TaskpoolException("cursor '" + after + "' names partition " + from + ", but task "
                        + partitions.getFirst().task() + " has " + partitions.size() + " (0 to " + (partitions.size() - 1) + ")");
            }
        }
        return page(partitions.getFirst(), new AcrossPartitions(partitions, status, limit, from, inner), limit);
    }

    private Entries source(Keys keys, TaskStatus status, int limit, String after) {
        return switch (status) {
            case WAITING -> new DelayedThenReady(keys, limit, after);
            case RUNNING -> new SortedEntries(keys.leases(), limit, after, "");
            case SUCCESS -> new FinishedEntries(keys.succeeded(), limit, after);
            case FAILURE -> new SortedEntries(keys.failed(), limit, after, "");
        };
    }

    /**
     * Lists up to {@code limit} tasks whose hash still exists, in the order the source gives them.
     * The page has a next cursor only when one more task exists after it: the source reads a
     * window one entry longer than a page for that.
     */
    private TaskPage page(Keys keys, Entries source, int limit) {
        List<TaskInfo> tasks = new ArrayList<>();
        String cursor = null;
        while (true) {
            Window window = source.next();
            for (Entry entry : window.entries()) {
                TaskInfo info = read(entry.keys() != null ? entry.keys() : keys, entry.id());
                if (info == null) {
                    continue;   // expired (not pruned yet), deleted, or no entry taskpool wrote
                }
                if (tasks.size() == limit) {
                    return new TaskPage(tasks, cursor);
                }
                tasks.add(info);
                cursor = entry.cursor();
            }
            if (window.last()) {
                return new TaskPage(tasks, null);
            }
        }
    }

    /** A task's record, or null when its hash is gone. */
    private TaskInfo read(Keys keys, String id) {
        if (!id.matches("[1-9]\\d{0,15}")) {
            return null;   // an entry that is no task id; the scripts drop such entries
        }
        Map<String, String> hash = calls.await(commands.hgetall(keys.taskPrefix() + id).toCompletableFuture(),
                "read task " + keys.task() + " #" + id);
        return hash == null || hash.isEmpty() ? null : TaskInfo.fromHash(keys.task(), Long.parseLong(id), hash);
    }

    private static TaskpoolException badCursor(String cursor, String listing, String form) {
        return new TaskpoolException("cursor '" + cursor + "' is not one " + listing + " listing gives (expected " + form
                + ", the nextCursor of the previous page)");
    }

    /**
     * An index entry: the task id it names, the cursor a page ending at it gives, and the
     * partition it is in (null: the one the listing is of).
     */
    private record Entry(String id, String cursor, Keys keys) {
        Entry(String id, String cursor) {
            this(id, cursor, null);
        }
    }

    /** The entries of one read of an index, in listing order; {@code last} when nothing follows. */
    private record Window(List<Entry> entries, boolean last) {
    }

    /** Where a listing's entries come from: one status's index, read window by window. */
    private interface Entries {
        Window next();
    }

    /**
     * The entries of several partitions, one after the other in partition order, starting in
     * partition {@code from} after {@code after} (a cursor of that partition alone); each entry
     * names its partition, and its cursor is prefixed with {@code p<k>:} but in partition 0.
     */
    private final class AcrossPartitions implements Entries {
        private final List<Keys> partitions;
        private final TaskStatus status;
        private final int limit;
        private int k;
        private Entries current;

        AcrossPartitions(List<Keys> partitions, TaskStatus status, int limit, int from, String after) {
            this.partitions = partitions;
            this.status = status;
            this.limit = limit;
            this.k = from;
            this.current = source(partitions.get(from), status, limit, after);
        }

        @Override
        public Window next() {
            Window window = current.next();
            Keys keys = partitions.get(k);
            String prefix = k == 0 ? "" : "p" + k + ":";
            List<Entry> entries = window.entries().stream()
                    .map(entry -> new Entry(entry.id(), prefix + entry.cursor(), keys)).toList();
            if (!window.last()) {
                return new Window(entries, false);
            }
            if (k + 1 >= partitions.size()) {
                return new Window(entries, true);
            }
            k++;
            current = source(partitions.get(k), status, limit, null);
            return new Window(entries, false);
        }
    }

    /**
     * The WAITING tasks in the reverse of the order they will start in, which is "newest first" for
     * a queue: the delayed ones first, latest due first (cursor {@code d<due>:<id>}), then the ready
     * ones, lowest priority first (the highest starts first), each priority's queue left (newest)
     * to right (cursor {@code w<id>} in priority 0's queue, {@code w<p>:<id>} in that of priority
     * 1 to 3). The delayed come first because a task falling due moves from the earliest end of
     * {@code delayed} to the newest end of its queue: a pager walking in this order meets it in one
     * place or the other, never in neither (a pager that listed the queues first would have passed
     * their newest ends already); one that is in a lower priority's queue then meets it twice.
     */
    private final class DelayedThenReady implements Entries {
        private static final Pattern READY_CURSOR = Pattern.compile("w(?:([1-3]):)?([1-9]\\d{0,15})");

        private final Keys keys;
        private final int limit;
        private SortedEntries delayed;
        private int priority;
        private WaitingEntries ready;

        DelayedThenReady(Keys keys, int limit, String after) {
            this.keys = keys;
            this.limit = limit;
            Matcher inQueue = after == null ? null : READY_CURSOR.matcher(after);
            if (inQueue != null && inQueue.matches()) {
                priority = inQueue.group(1) == null ? 0 : Integer.parseInt(inQueue.group(1));
                ready = new WaitingEntries(keys, priority, limit, inQueue.group(2));
                return;
            }
            if (after != null && !(after.startsWith("d") && SucceededList.TIMED_ID.matcher(after.substring(1)).matches())) {
                throw badCursor(after, "a WAITING", "d<due>:<id> or w<id> (w<priority>:<id> in a queue of priority 1 to 3)");
            }
            this.delayed = new SortedEntries(keys.delayed(), limit, after == null ? null : after.substring(1), "d");
        }

        @Override
        public Window next() {
            if (delayed != null) {
                Window window = delayed.next();
                if (window.last()) {
                    delayed = null;   // the queues follow
                    ready = new WaitingEntries(keys, 0, limit, null);
                    return new Window(window.entries(), false);
                }
                return window;
            }
            Window window = ready.next();
            if (window.last() && priority < 3) {
                priority++;   // the next priority's queue follows
                ready = new WaitingEntries(keys, priority, limit, null);
                return new Window(window.entries(), false);
            }
            return window;
        }
    }

    /**
     * The queue of one priority, left (newest) to right; the cursor is {@code w<id>} (priority 0) or
     * {@code w<priority>:<id>}, the last id listed.
     */
    private final class WaitingEntries implements Entries {
        private final String key;
        private final String cursorPrefix;
        private final int limit;
        private String idToFind;
        private long start;

        WaitingEntries(Keys keys, int priority, int limit, String afterId) {
            this.key = keys.waiting(priority);
            this.cursorPrefix = priority == 0 ? "w" : "w" + priority + ":";
            this.limit = limit;
            this.idToFind = afterId;
        }

        @Override
        public Window next() {
            if (idToFind != null) {
                Long position = calls.await(commands.lpos(key, idToFind).toCompletableFuture(),
                        "find the cursor in " + key);
                idToFind = null;
                if (position == null) {
                    // The task it names was taken from the queue, and with it every older one.
                    return new Window(List.of(), true);
                }
                start = position + 1;
            }
            List<String> ids = calls.await(commands.lrange(key, start, start + limit).toCompletableFuture(), "list " + key);
            start += ids.size();
            return new Window(ids.stream().map(id -> new Entry(id, cursorPrefix + id)).toList(), ids.size() <= limit);
        }
    }

    /**
     * A sorted set (the leases, the {@code failed} set), highest score first (ties: the higher member
     * first, as Redis orders them); the cursor {@code <score>:<id>} (after {@code cursorPrefix}) is the
     * last entry listed, and the next page starts after it.
     */
    private final class SortedEntries implements Entries {
        private final String key;
        private final int batch;
        private final double max;
        private final String afterId;
        private final String cursorPrefix;
        private long offset;

        SortedEntries(String key, int limit, String after, String cursorPrefix) {
            double max = Double.POSITIVE_INFINITY;
            String afterId = null;
            if (after != null) {
                if (!SucceededList.TIMED_ID.matcher(after).matches()) {
                    throw badCursor(after, "this", "<score>:<id>");
                }
                int colon = after.indexOf(':');
                max = Long.parseLong(after.substring(0, colon));
                afterId = after.substring(colon + 1);
            }
            this.key = key;
            this.batch = limit + 1;
            this.max = max;
            this.afterId = afterId;
            this.cursorPrefix = cursorPrefix;
        }

        @Override
        public Window next() {
            List<ScoredValue<String>> scored = calls.await(commands.zrevrangebyscoreWithScores(key,
                    Range.create(Double.NEGATIVE_INFINITY, max), Limit.create(offset, batch)).toCompletableFuture(),
                    "list " + key);
            offset += scored.size();
            List<Entry> entries = new ArrayList<>();
            for (ScoredValue<String> entry : scored) {
                String id = entry.getValue();
                if (afterId != null && entry.getScore() == max && id.compareTo(afterId) >= 0) {
                    continue;   // listed on an earlier page
                }
                entries.add(new Entry(id, cursorPrefix + (long) entry.getScore() + ":" + id));
            }
            return new Window(entries, scored.size() < batch);
        }
    }

    /**
     * The {@code succeeded} list, newest (right) first; the cursor {@code <finished_at>:<id>} is the
     * last entry listed (the entry itself), and the next page starts after it. When that entry was
     * pruned or deleted in between, the next page starts at the first entry finished before it.
     */
    private final class FinishedEntries implements Entries {
        private final String key;
        private final int limit;
        private String from;
        private final Set<String> seenWindows = new HashSet<>();
        // A cursor gone from a list a little out of time order can resume at entries listed already.
        private final Set<String> listed = new HashSet<>();

        FinishedEntries(String key, int limit, String after) {
            if (after != null && !SucceededList.TIMED_ID.matcher(after).matches()) {
                throw badCursor(after, "this", "<finished_at>:<id>");
            }
            this.key = key;
            this.limit = limit;
            this.from = after == null ? "" : after;
        }

        @Override
        public Window next() {
            // One script reads the window left of `from`, so a prune cannot shift it in between.
            List<Object> window;
            try {
                window = calls.await(scripts.run(LuaScript.SUCCEEDED_PAGE, new String[] {key},
                        from, Integer.toString(limit + 1)), "list " + key);
            } catch (TaskpoolException e) {
                // The script's own type check: a sorted set left by an older version is named as such.
                throw String.valueOf(e.getMessage()).contains("holds a sorted set") ? SucceededList.olderIndex(key, e) : e;
            }
            if (window.isEmpty()) {
                return new Window(List.of(), true);
            }
            List<Entry> entries = new ArrayList<>();
            for (int i = window.size() - 1; i >= 0; i--) {
                String entry = (String) window.get(i);
                // An entry that is no "<finished_at>:<id>" (written by hand) is skipped: it could not be a cursor.
                if (SucceededList.TIMED_ID.matcher(entry).matches() && listed.add(entry)) {
                    entries.add(new Entry(entry.substring(entry.indexOf(':') + 1), entry));
                }
            }
            from = (String) window.getFirst();
            // Entries written by hand out of order can lead back to a window already read.
            return new Window(entries, !seenWindows.add(from));
        }
    }
}
