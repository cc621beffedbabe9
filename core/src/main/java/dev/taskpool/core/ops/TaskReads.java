package dev.taskpool.core.ops;

import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** One task and the counters of its kind, as a client, a worker's process or a command line reads them. */
public final class TaskReads {
    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;

    public TaskReads(RedisConnector redis) {
        this.commands = redis.async();
        this.calls = new RedisCalls(redis);
    }

    /**
     * The counters of a task kind, which outlive the tasks themselves (added, succeeded, failed, retried,
     * recovered, canceled, and duplicates: adds answered with the id of a task holding their unique key).
     */
    public Map<String, Long> stats(String task) {
        Map<String, String> hash = calls.await(commands.hgetall(Keys.of(task).stats()).toCompletableFuture(),
                "read the counters of task " + task);
        Map<String, Long> counters = new TreeMap<>();
        for (String name : List.of("added", "succeeded", "failed", "retried", "recovered", "canceled", "duplicates")) {
            counters.put(name, Long.parseLong(hash.getOrDefault(name, "0")));
        }
        return counters;
    }

    /** Reads a task; empty when it does not exist (never added, or expired after its retention). */
    public Optional<TaskInfo> get(String task, long id) {
        Map<String, String> hash = calls.await(commands.hgetall(Keys.of(task).task(id)).toCompletableFuture(),
                "read task " + task + " #" + id);
        return hash == null || hash.isEmpty() ? Optional.empty() : Optional.of(TaskInfo.fromHash(task, id, hash));
    }
}
