package dev.taskpool.core.ops;

import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.KeyValue;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Reads of task hashes for {@link TaskOperations}: a whole record, or some fields by name (fields
 * that are no part of {@link TaskInfo}, such as what an operator's retry leaves behind, or the
 * times of many tasks at once, pipelined).
 */
final class TaskFields {
    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;

    TaskFields(RedisClusterAsyncCommands<String, String> commands, RedisCalls calls) {
        this.commands = commands;
        this.calls = calls;
    }

    Optional<TaskInfo> task(String task, long id) {
        Map<String, String> hash = calls.await(commands.hgetall(Keys.of(task).task(id)).toCompletableFuture(),
                "read task " + task + " #" + id);
        return hash == null || hash.isEmpty() ? Optional.empty() : Optional.of(TaskInfo.fromHash(task, id, hash));
    }

    Map<String, String> fields(String task, long id, String... names) {
        return present(calls.await(commands.hmget(Keys.of(task).task(id), names).toCompletableFuture(),
                "read task " + task + " #" + id));
    }

    /** One HMGET per task, all sent before the first reply is awaited (one round trip for the lot). */
    List<Map<String, String>> fields(String task, List<Long> ids, String... names) {
        Keys keys = Keys.of(task);
        List<CompletableFuture<List<KeyValue<String, String>>>> pending = new ArrayList<>(ids.size());
        for (long id : ids) {
            pending.add(commands.hmget(keys.task(id), names).toCompletableFuture());
        }
        List<Map<String, String>> read = new ArrayList<>(ids.size());
        for (int i = 0; i < pending.size(); i++) {
            read.add(present(calls.await(pending.get(i), "read task " + task + " #" + ids.get(i))));
        }
        return read;
    }

    /** The fields that have a value, in the order asked; an empty value counts as none. */
    private static Map<String, String> present(List<KeyValue<String, String>> values) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (KeyValue<String, String> field : values) {
            if (field.hasValue() && !field.getValue().isEmpty()) {
                fields.put(field.getKey(), field.getValue());
            }
        }
        return fields;
    }
}
