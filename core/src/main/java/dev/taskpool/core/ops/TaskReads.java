package dev.taskpool.core.ops;

import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * One task and the counters of its kind, as a client, a worker's process or a command line reads
 * them. A partitioned kind is read as a whole (see {@link TaskPlaces}): a task where its id says,
 * the counters summed over its partitions; a partition's name ({@code mail.send~2}) reads that
 * partition alone.
 */
public final class TaskReads {
    private static final List<String> COUNTERS = List.of("added", "succeeded", "failed", "retried", "recovered",
            "canceled", "duplicates");

    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;
    private final TaskPlaces places;

    public TaskReads(RedisConnector redis) {
        this(redis, new KindLayouts(redis));
    }

    /** Reads through {@code layouts}, e.g. the ones an {@code AddStore} keeps, so the layouts are read once for both. */
    public TaskReads(RedisConnector redis, KindLayouts layouts) {
        this.commands = redis.async();
        this.calls = new RedisCalls(redis);
        this.places = new TaskPlaces(layouts, commands, calls);
    }

    /**
     * The latest {@code finished_at} (epoch ms) among the last {@code entries} entries of the kind's
     * (or partition's) {@code succeeded} index, 0 when it is empty: its entries are appended as runs
     * end, so the last few hold the last finish (a benchmark's span).
     */
    public long lastSucceededAt(String task, int entries) {
        long last = 0;
        for (String entry : calls.await(commands.lrange(Keys.of(task).succeeded(), -entries, -1).toCompletableFuture(),
                "read the succeeded index of task " + task)) {
            int colon = entry.indexOf(':');
            if (colon > 0) {
                last = Math.max(last, Long.parseLong(entry.substring(0, colon)));
            }
        }
        return last;
    }

    /**
     * The counters of a task kind, which outlive the tasks themselves (added, succeeded, failed, retried,
     * recovered, canceled, and duplicates: adds answered with the id of a task holding their unique key);
     * of a partitioned kind, the sums over its partitions (their hashes read together).
     */
    public Map<String, Long> stats(String task) {
        List<Keys> partitions = TaskPlaces.isPartitionName(task) ? List.of(Keys.of(task))
                : places.layout(Keys.of(task).task()).all();
        List<CompletableFuture<Map<String, String>>> reads = new ArrayList<>();
        partitions.forEach(keys -> reads.add(commands.hgetall(keys.stats()).toCompletableFuture()));
        Map<String, Long> counters = new TreeMap<>();
        COUNTERS.forEach(name -> counters.put(name, 0L));
        for (CompletableFuture<Map<String, String>> read : reads) {
            Map<String, String> hash = calls.await(read, "read the counters of task " + task);
            for (String name : COUNTERS) {
                counters.merge(name, Long.parseLong(hash.getOrDefault(name, "0")), Long::sum);
            }
        }
        return counters;
    }

    /**
     * Reads a task; empty when it does not exist (never added, or expired after its retention).
     * {@code task} is its kind (the task is read in the partition its id names, or in partition 0),
     * or the name of the partition that holds it.
     */
    public Optional<TaskInfo> get(String task, long id) {
        return Optional.ofNullable(places.find(task, id, keys -> {
            Map<String, String> hash = calls.await(commands.hgetall(keys.task(id)).toCompletableFuture(),
                    "read task " + keys.task() + " #" + id);
            return hash == null || hash.isEmpty() ? null : TaskInfo.fromHash(keys.task(), id, hash);
        }));
    }

    /**
     * The name of the partition that holds task {@code id} of {@code task} ({@link Keys#partition()}:
     * the kind itself unless it is partitioned), without a read for an unpartitioned kind; for a
     * task that does not exist, the partition a task with that id would be added to.
     */
    public String partitionOf(String task, long id) {
        return places.locate(task, id).partition();
    }
}
