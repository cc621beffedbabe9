package dev.taskpool.core.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.KeyValue;
import io.lettuce.core.Range;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Reads the counts of one kind, or of one partition of a partitioned kind (which
 * {@link TaskOperations#stats(String)} sums), for {@link TaskOperations#stats(String)}: a few keys of its slot,
 * pipelined, and what finished in the last minute for the throughput. Not atomic: each number is
 * true of the moment its command ran.
 *
 * <p>What holds the kind back ({@link KindFlow}) is judged by {@code clock}, Redis' clock: the
 * {@code flow} hash is read with the retention in the first round, so the rate window (whose
 * length it gives) is read in the second round with the other counts, at no round trip more.
 */
final class KindStatsReader {
    private static final long THROUGHPUT_WINDOW_MS = 60_000;
    /** The priorities of the ready queues, {@link Keys#waiting(int)}. */
    private static final int TOP_PRIORITY = 3;

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
        String what = "read the counts of task " + task;
        Range<Double> lastMinute = Range.create((double) (now - THROUGHPUT_WINDOW_MS), (double) now);
        List<CompletableFuture<Long>> ready = new ArrayList<>();
        List<CompletableFuture<String>> oldest = new ArrayList<>();
        for (int priority = 0; priority <= TOP_PRIORITY; priority++) {
            ready.add(commands.llen(keys.waiting(priority)).toCompletableFuture());
            oldest.add(commands.lindex(keys.waiting(priority), -1).toCompletableFuture());
        }
        var delayed = commands.zcard(keys.delayed()).toCompletableFuture();
        var running = commands.zcard(keys.leases()).toCompletableFuture();
        var counters = commands.hgetall(keys.stats()).toCompletableFuture();
        var flowHash = commands.hgetall(keys.flow()).toCompletableFuture();
        // An index is pruned when a batch writes to it: entries past retention may linger in one
        // that is not written for a while, so what is retained is counted by time.
        Map<String, String> published = new HashMap<>();
        calls.await(commands.hmget(keys.definition(), "keep", "size").toCompletableFuture(), "read the retention of task " + task)
                .forEach(field -> published.put(field.getKey(), field.getValueOrElse(null)));
        String keepText = published.get("keep");
        String sizeText = published.get("size");
        long keepMs = keepText != null && keepText.matches("\\d{1,12}") ? Long.parseLong(keepText) * 1000 : 86_400_000L;
        Range<Double> retained = Range.create((double) (now - keepMs), Double.POSITIVE_INFINITY);
        var failed = commands.zcount(keys.failed(), retained).toCompletableFuture();
        var paused = commands.get(keys.paused()).toCompletableFuture();
        var failedLately = commands.zcount(keys.failed(), lastMinute).toCompletableFuture();
        Map<String, String> flowFields = calls.await(flowHash, what);
        long maxRunning = flowNumber(keys, flowFields, "max_running");
        long rateLimit = flowNumber(keys, flowFields, "rate_limit");
        long ratePer = flowNumber(keys, flowFields, "rate_per");
        // The limit-th newest start: by rank, not by score (ZRANGE, which every documented ACL user may run).
        CompletableFuture<List<ScoredValue<String>>> window = rateLimit > 0 && ratePer > 0
                ? commands.zrangeWithScores(keys.rate(), -rateLimit, -rateLimit).toCompletableFuture()
                : null;
        long succeeded = succeededList.finishedSince(keys.succeeded(), now - keepMs, what);
        long succeededLately = succeededList.finishedSince(keys.succeeded(), now - THROUGHPUT_WINDOW_MS, what);
        Map<String, String> hash = calls.await(counters, what);
        String pausedJson = calls.await(paused, what);
        String pausedBy = null;
        if (pausedJson != null) {
            JsonNode record = parsePaused(pausedJson);
            pausedBy = record.path("by").isTextual() ? record.path("by").asText() : "";
        }
        long oldestAge = oldestReadyAge(keys, oldest, now, what);
        double perSecond = (succeededLately + calls.await(failedLately, what)) / (THROUGHPUT_WINDOW_MS / 1000.0);
        long readyCount = 0;
        for (CompletableFuture<Long> length : ready) {
            readyCount += calls.await(length, what);
        }
        long delayedCount = calls.await(delayed, what);
        long runningCount = calls.await(running, what);
        KindFlow flow = flow(keys, flowFields, maxRunning, rateLimit, ratePer, runningCount,
                window == null ? List.of() : calls.await(window, what), now);
        return new KindStats(task, readyCount + delayedCount, runningCount,
                counter(keys, hash, "succeeded"), counter(keys, hash, "failed"), counter(keys, hash, "retried"),
                counter(keys, hash, "recovered"), counter(keys, hash, "canceled"), counter(keys, hash, "added"),
                succeeded, calls.await(failed, what), pausedJson != null, pausedBy, oldestAge, perSecond,
                readyCount, delayedCount, flow, counter(keys, hash, "duplicates"),
                sizeText != null && sizeText.matches("\\d{1,12}") ? Long.parseLong(sizeText) : 0, List.of());
    }

    /**
     * What holds the kind back at {@code now}: at its cap while as many tasks run as it allows;
     * rate-limited while its window ({@code now - per}, now] holds {@code limit} starts or more, that
     * is while the {@code limit}-th newest start ({@code window} holds it alone, or nothing when there
     * were fewer) is in it, until that start (the one whose leaving makes room) is {@code per} old;
     * held while {@code held_until} is ahead.
     */
    private static KindFlow flow(Keys keys, Map<String, String> fields, long maxRunning, long rateLimit, long ratePer,
                                 long running, List<ScoredValue<String>> window, long now) {
        if (fields.isEmpty()) {
            return KindFlow.NONE;
        }
        long limitedUntil = window.isEmpty() ? 0 : (long) Math.ceil(window.getFirst().getScore()) + ratePer;
        long heldUntil = flowNumber(keys, fields, "held_until");
        boolean held = heldUntil > now;
        String reason = fields.get("held_reason");
        return new KindFlow(maxRunning, rateLimit, rateLimit > 0 ? ratePer : 0, maxRunning > 0 && running >= maxRunning,
                limitedUntil > now ? limitedUntil : 0, held ? heldUntil : 0,
                held && reason != null && !reason.isEmpty() ? reason : null);
    }

    /** A number of the flow hash; 0 when absent. Decimals (written by hand) are rounded down. */
    private static long flowNumber(Keys keys, Map<String, String> fields, String field) {
        String value = fields.get(field);
        if (value == null || value.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            try {
                double number = Double.parseDouble(value);
                if (Double.isFinite(number)) {
                    return (long) Math.floor(number);
                }
            } catch (NumberFormatException ignored) {
                // the error below says what was expected
            }
            throw new TaskpoolException(keys.flow() + " field " + field + " holds '" + value + "', expected a number");
        }
    }

    /**
     * How long the longest-waiting of the next ready tasks (the right end of each priority's queue)
     * has waited to start: since it was added, or, when it was delayed, since it fell due (a task
     * delayed for an hour has not waited that hour). -1 when nothing is ready.
     */
    private long oldestReadyAge(Keys keys, List<CompletableFuture<String>> tails, long now, String what) {
        List<CompletableFuture<List<KeyValue<String, String>>>> times = new ArrayList<>();
        for (CompletableFuture<String> tail : tails) {
            String id = calls.await(tail, what);
            if (id != null) {
                times.add(commands.hmget(keys.taskPrefix() + id, "created_at", "due_at").toCompletableFuture());
            }
        }
        long age = -1;
        for (CompletableFuture<List<KeyValue<String, String>>> read : times) {
            long since = -1;
            for (KeyValue<String, String> time : calls.await(read, what)) {
                if (time.hasValue() && time.getValue().matches("\\d{1,18}")) {
                    since = Math.max(since, Long.parseLong(time.getValue()));
                }
            }
            if (since >= 0) {
                age = Math.max(age, Math.max(0, now - since));
            }
        }
        return age;
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
