package dev.taskpool.core.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.KeyValue;
import io.lettuce.core.Range;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Reads the counts of one kind for {@link TaskOperations#stats(String)}: a few keys of its slot,
 * pipelined, and what finished in the last minute for the throughput.
 */
final class KindStatsReader {
    private static final long THROUGHPUT_WINDOW_MS = 60_000;

    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;
    private final Clock clock;
    private final SucceededList succeededList;

    KindStatsReader(RedisClusterAsyncCommands<String, String> commands, RedisCalls calls, Clock clock) {
        this.commands = commands;
        this.calls = calls;
        this.clock = clock;
        this.succeededList = new SucceededList(commands, calls);
    }

    KindStats read(Keys keys) {
        String task = keys.task();
        long now = clock.millis();
        Range<Double> lastMinute = Range.create((double) (now - THROUGHPUT_WINDOW_MS), (double) now);
        var ready = commands.llen(keys.waiting()).toCompletableFuture();
        var delayed = commands.zcard(keys.delayed()).toCompletableFuture();
        var running = commands.zcard(keys.leases()).toCompletableFuture();
        var counters = commands.hgetall(keys.stats()).toCompletableFuture();
        // An index is pruned when a batch writes to it: entries past retention may linger in one
        // that is not written for a while, so what is retained is counted by time.
        String keepText = calls.await(commands.hget(keys.definition(), "keep").toCompletableFuture(), "read the retention of task " + task);
        long keepMs = keepText != null && keepText.matches("\\d{1,12}") ? Long.parseLong(keepText) * 1000 : 86_400_000L;
        Range<Double> retained = Range.create((double) (now - keepMs), Double.POSITIVE_INFINITY);
        var failed = commands.zcount(keys.failed(), retained).toCompletableFuture();
        var paused = commands.get(keys.paused()).toCompletableFuture();
        var oldest = commands.lindex(keys.waiting(), -1).toCompletableFuture();
        var failedLately = commands.zcount(keys.failed(), lastMinute).toCompletableFuture();
        String what = "read the counts of task " + task;
        long succeeded = succeededList.finishedSince(keys.succeeded(), now - keepMs, what);
        long succeededLately = succeededList.finishedSince(keys.succeeded(), now - THROUGHPUT_WINDOW_MS, what);
        Map<String, String> hash = calls.await(counters, what);
        String pausedJson = calls.await(paused, what);
        String pausedBy = null;
        if (pausedJson != null) {
            JsonNode record = parsePaused(pausedJson);
            pausedBy = record.path("by").isTextual() ? record.path("by").asText() : "";
        }
        long oldestAge = oldestReadyAge(keys, calls.await(oldest, what), now, what);
        double perSecond = (succeededLately + calls.await(failedLately, what)) / (THROUGHPUT_WINDOW_MS / 1000.0);
        long readyCount = calls.await(ready, what);
        long delayedCount = calls.await(delayed, what);
        return new KindStats(task, readyCount + delayedCount, calls.await(running, what),
                counter(keys, hash, "succeeded"), counter(keys, hash, "failed"), counter(keys, hash, "retried"),
                counter(keys, hash, "recovered"), counter(keys, hash, "canceled"), counter(keys, hash, "added"),
                succeeded, calls.await(failed, what), pausedJson != null, pausedBy, oldestAge, perSecond,
                readyCount, delayedCount);
    }

    /**
     * How long the next ready task (the right end of the queue) has waited to start: since it was
     * added, or, when it was delayed, since it fell due (a task delayed for an hour has not waited
     * that hour). -1 when nothing is ready.
     */
    private long oldestReadyAge(Keys keys, String oldestId, long now, String what) {
        if (oldestId == null) {
            return -1;
        }
        List<KeyValue<String, String>> times = calls.await(commands.hmget(keys.taskPrefix() + oldestId, "created_at", "due_at")
                .toCompletableFuture(), what);
        long since = -1;
        for (KeyValue<String, String> time : times) {
            if (time.hasValue() && time.getValue().matches("\\d{1,18}")) {
                since = Math.max(since, Long.parseLong(time.getValue()));
            }
        }
        return since < 0 ? -1 : Math.max(0, now - since);
    }

    private static JsonNode parsePaused(String json) {
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
}
