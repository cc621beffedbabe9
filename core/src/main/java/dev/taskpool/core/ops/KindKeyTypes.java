package dev.taskpool.core.ops;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Which key of a kind holds the wrong type, when reading its counts met a WRONGTYPE reply: Redis
 * names no key in that reply, so each key the counts read is asked its TYPE (only on that failure,
 * never on the way to the counts).
 */
final class KindKeyTypes {
    private static final Map<String, String> NAMES = Map.of("string", "a string", "list", "a list", "set", "a set",
            "zset", "a sorted set", "hash", "a hash", "stream", "a stream");

    private KindKeyTypes() {
    }

    /** Each key the counts of a kind read, with the type it must hold. */
    private static Map<String, String> expected(Keys keys) {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put(keys.definition(), "hash");
        for (int priority = 0; priority <= 3; priority++) {
            expected.put(keys.waiting(priority), "list");
        }
        expected.put(keys.delayed(), "zset");
        expected.put(keys.leases(), "zset");
        expected.put(keys.stats(), "hash");
        expected.put(keys.succeeded(), "list");
        expected.put(keys.failed(), "zset");
        expected.put(keys.paused(), "string");
        expected.put(keys.flow(), "hash");
        expected.put(keys.rate(), "zset");
        return expected;
    }

    /** "a sorted set" for "zset", and so on. */
    static String describe(String type) {
        return NAMES.getOrDefault(type, type);
    }

    /**
     * {@code failure} of reading the counts of a kind, with the keys that hold the wrong type named
     * ("taskpool:{mail}:waiting holds a string, expected a list") when that is what it was; else
     * {@code failure} itself.
     */
    static TaskpoolException named(RedisClusterAsyncCommands<String, String> commands, Keys keys, TaskpoolException failure,
                                   RedisCalls calls) {
        if (!isWrongType(failure) || failure.getMessage().contains(Keys.ROOT + "{" + keys.partition() + "}:")) {
            return failure;   // not a wrong type, or one named already (e.g. a `succeeded` index an older version left)
        }
        Map<String, String> expected = expected(keys);
        Map<String, CompletableFuture<String>> held = new LinkedHashMap<>();
        expected.keySet().forEach(key -> held.put(key, commands.type(key).toCompletableFuture()));
        List<String> wrong = new ArrayList<>();
        for (var entry : held.entrySet()) {
            String type = calls.await(entry.getValue(), "read the type of " + entry.getKey());
            String wanted = expected.get(entry.getKey());
            if (!"none".equals(type) && !wanted.equals(type)) {
                wrong.add(entry.getKey() + " holds " + describe(type) + ", expected " + describe(wanted));
            }
        }
        return wrong.isEmpty() ? failure : new TaskpoolException(String.join("; ", wrong), failure);
    }

    private static boolean isWrongType(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof RedisCommandExecutionException && String.valueOf(cause.getMessage()).startsWith("WRONGTYPE")) {
                return true;
            }
        }
        return false;
    }
}
