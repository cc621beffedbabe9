package dev.taskpool.core.ops;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.regex.Pattern;

/**
 * Reads of a kind's {@code succeeded} list: entries {@code "<finished_at>:<id>"} in finish order,
 * oldest at the left, as the workers' clocks give it. An older taskpool kept it as a sorted set; a
 * worker of this version converts it at its next finish or recovery of the kind.
 */
final class SucceededList {
    /** An entry of the list, and the cursor of a finished (or sorted-set) listing: "<ms>:<id>". */
    static final Pattern TIMED_ID = Pattern.compile("\\d{1,16}:[1-9]\\d{0,15}");

    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;

    SucceededList(RedisClusterAsyncCommands<String, String> commands, RedisCalls calls) {
        this.commands = commands;
        this.calls = calls;
    }

    /** The error for a list still left as the sorted set an older taskpool wrote. */
    static TaskpoolException olderIndex(String key, Exception cause) {
        return new TaskpoolException(key + " is still the sorted set an older taskpool wrote; a worker of this"
                + " version turns it into the list this command reads at its next finish or recovery of the kind", cause);
    }

    /** How many entries of the list at {@code key} finished at or after {@code since}. */
    long finishedSince(String key, long since, String what) {
        long length = length(key, what);
        return length - firstFinishedAtOrAfter(key, since, length, what);
    }

    /** The list's length; one left as a sorted set by an older taskpool is named as such. */
    private long length(String key, String what) {
        try {
            return calls.await(commands.llen(key).toCompletableFuture(), what);
        } catch (TaskpoolException e) {
            String held = calls.await(commands.type(key).toCompletableFuture(), "read the type of " + key);
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
     * The index of the first entry that finished at or after {@code since}, {@code length} when none
     * did: found by bisection (a few LINDEX reads; entries are in finish order).
     */
    private long firstFinishedAtOrAfter(String key, long since, long length, String what) {
        if (length == 0 || finishedAt(calls.await(commands.lindex(key, 0).toCompletableFuture(), what)) >= since) {
            return 0;   // none older: the usual case for what is retained, as the scripts prune it
        }
        long low = 1;   // the first entry is older
        long high = length;
        while (low < high) {
            long middle = (low + high) >>> 1;
            String entry = calls.await(commands.lindex(key, middle).toCompletableFuture(), what);
            // None there: a prune shortened the list since its length was read; what is left is newer.
            if (entry == null || finishedAt(entry) >= since) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        return low;
    }

    /** The time of an entry; 0 for one that is no {@code "<ms>:<id>"} (it counts as old). */
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
}
