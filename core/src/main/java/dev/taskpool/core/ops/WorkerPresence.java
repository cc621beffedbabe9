package dev.taskpool.core.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Reads the live workers from their presence: the ids in {@code taskpool:workers}, then each
 * record {@code taskpool:worker:<id>} (pipelined). A record that cannot be read (written by hand:
 * no JSON, the wrong type) is skipped and named, so one broken entry hides no other worker.
 */
final class WorkerPresence {
    /** The workers read, sorted by id, and a line for each presence entry skipped. */
    record Reading(List<WorkerInfo> workers, List<String> skipped) {
    }

    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;

    WorkerPresence(RedisClusterAsyncCommands<String, String> commands, RedisCalls calls) {
        this.commands = commands;
        this.calls = calls;
    }

    /**
     * @throws TaskpoolException when {@code taskpool:workers} itself cannot be read (Redis away, or
     *                           the key holds the wrong type: named)
     */
    Reading read() {
        List<String> ids;
        try {
            ids = calls.await(commands.zrange(Keys.WORKERS, 0, -1).toCompletableFuture(), "list the workers in " + Keys.WORKERS);
        } catch (TaskpoolException e) {
            throw OverviewReader.isBrokenData(e) ? wrongType(Keys.WORKERS, "zset", "the workers cannot be listed", e) : e;
        }
        List<CompletableFuture<String>> records = ids.stream()
                .map(id -> commands.get(Keys.worker(id)).toCompletableFuture()).toList();
        List<WorkerInfo> workers = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            String key = Keys.worker(id);
            String json;
            try {
                json = calls.await(records.get(i), "read the presence of worker " + id);
            } catch (TaskpoolException e) {
                if (!OverviewReader.isBrokenData(e)) {
                    throw e;
                }
                skipped.add(wrongType(key, "string", "skipped", e).getMessage());
                continue;
            }
            if (json == null) {
                continue;   // died without clearing its presence; its record expired
            }
            JsonNode node;
            try {
                node = Json.MAPPER.readTree(json);
            } catch (JsonProcessingException e) {
                skipped.add(key + " holds no JSON presence record (" + e.getOriginalMessage() + "): skipped");
                continue;
            }
            if (!node.isObject()) {
                skipped.add(key + " holds " + node.getNodeType().name().toLowerCase(Locale.ROOT)
                        + " JSON, expected a presence record (an object): skipped");
                continue;
            }
            List<String> tasks = new ArrayList<>();
            node.path("tasks").forEach(task -> tasks.add(task.asText()));
            workers.add(new WorkerInfo(id, node.path("host").asText("?"), node.path("pid").asLong(-1), tasks,
                    node.path("running").asInt(0), node.path("slots").asInt(0), node.path("started_at").asLong(0),
                    node.path("seen_at").asLong(0)));
        }
        workers.sort(Comparator.comparing(WorkerInfo::id));
        return new Reading(workers, skipped);
    }

    /** "{@code key} holds a hash, expected a string: {@code consequence}", naming what it holds; else the failure as it was. */
    private TaskpoolException wrongType(String key, String expected, String consequence, TaskpoolException failure) {
        String held = calls.await(commands.type(key).toCompletableFuture(), "read the type of " + key);
        if ("none".equals(held) || expected.equals(held)) {
            return new TaskpoolException(failure.getMessage() + ": " + consequence, failure);
        }
        return new TaskpoolException(key + " holds " + KindKeyTypes.describe(held) + ", expected "
                + KindKeyTypes.describe(expected) + ": " + consequence, failure);
    }
}
