package dev.taskpool.core.ops;

import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.lua.KindLayout;
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
 * times of many tasks at once, pipelined), where their ids say (see {@link TaskPlaces}).
 */
final class TaskFields {
    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;
    private final TaskPlaces places;

    TaskFields(RedisClusterAsyncCommands<String, String> commands, RedisCalls calls, TaskPlaces places) {
        this.commands = commands;
        this.calls = calls;
        this.places = places;
    }

    /** The task where its id says (see {@link TaskPlaces}); empty when it is in none of its places. */
    Optional<TaskInfo> task(String task, long id) {
        return Optional.ofNullable(places.find(task, id, keys -> {
            Map<String, String> hash = calls.await(commands.hgetall(keys.task(id)).toCompletableFuture(),
                    "read task " + keys.task() + " #" + id);
            return hash == null || hash.isEmpty() ? null : TaskInfo.fromHash(keys.task(), id, hash);
        }));
    }

    Map<String, String> fields(String task, long id, String... names) {
        Keys keys = places.locate(task, id);
        return present(calls.await(commands.hmget(keys.task(id), names).toCompletableFuture(),
                "read task " + keys.task() + " #" + id));
    }

    /**
     * One HMGET per task, all sent before the first reply is awaited (one round trip for the lot),
     * each in the partition its id names; of a partitioned kind, those that found none of the
     * fields there are read again in partition 0 (a second round trip, for those only).
     */
    List<Map<String, String>> fields(String task, List<Long> ids, String... names) {
        List<List<Keys>> places = new ArrayList<>(ids.size());
        if (TaskPlaces.isPartitionName(task)) {
            ids.forEach(id -> places.add(List.of(Keys.of(task))));
        } else {
            KindLayout layout = this.places.layout(Keys.of(task).task());
            ids.forEach(id -> places.add(TaskPlaces.candidates(layout, id)));
        }
        List<Map<String, String>> read = read(ids, names, places, 0, null);
        if (places.stream().anyMatch(candidates -> candidates.size() > 1)) {
            read = read(ids, names, places, 1, read);
        }
        return read;
    }

    /** Reads, for each id with a place {@code n} whose fields were not found yet, its fields there. */
    private List<Map<String, String>> read(List<Long> ids, String[] names, List<List<Keys>> places, int n,
                                           List<Map<String, String>> before) {
        List<CompletableFuture<List<KeyValue<String, String>>>> pending = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            boolean wanted = places.get(i).size() > n && (before == null || before.get(i).isEmpty());
            pending.add(wanted ? commands.hmget(places.get(i).get(n).task(ids.get(i)), names).toCompletableFuture() : null);
        }
        List<Map<String, String>> read = new ArrayList<>(ids.size());
        for (int i = 0; i < pending.size(); i++) {
            read.add(pending.get(i) == null ? before.get(i)
                    : present(calls.await(pending.get(i), "read task " + places.get(i).get(n).task() + " #" + ids.get(i))));
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
