package dev.taskpool.core.schedule;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Reads schedules from Redis: the registry ({@link Keys#SCHEDULE_REGISTRY}) and each one's state
 * hash, the state reads sent together and awaited together (in a Cluster they go to several masters).
 */
final class ScheduleRecords {
    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;

    ScheduleRecords(RedisClusterAsyncCommands<String, String> commands, RedisCalls calls) {
        this.commands = commands;
        this.calls = calls;
    }

    /** The state key of a schedule: in its task kind's slot, or a key of its own for a process schedule. */
    static String stateKey(ScheduleSpec spec) {
        return spec.firesTask() ? Keys.of(spec.task()).schedule(spec.id()) : Keys.processSchedule(spec.id());
    }

    /**
     * One schedule: its definition, where it came from, and its state (empty when it has none yet).
     * A registry entry that cannot be read (written by hand) is a record with only its id and the
     * {@code problem}, and a state that cannot be read leaves the state empty and says why: listed,
     * with the problem as its last error, and never fired.
     */
    record Record(ScheduleSpec spec, String source, Map<String, String> state, String problem) {
        String field(String name) {
            return state.get(name);
        }

        long number(String name) {
            String value = state.get(name);
            if (value == null || value.isEmpty()) {
                return 0;
            }
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new TaskpoolException(stateKey(spec) + " field " + name + " holds '" + value + "', expected an integer");
            }
        }

        boolean stopped() {
            return "1".equals(state.get("stopped"));
        }

        ScheduleInfo info() {
            return new ScheduleInfo(spec.id(), spec.name(), spec.cron(), spec.timezone(), spec.task(), spec.process(),
                    spec.args(), spec.missed(), spec.overlap(), stopped(), number("next_fire_at"), number("last_fire_at"),
                    number("last_task"), problem != null ? problem : field("last_error"), source, problem == null);
        }
    }

    /** The registry's definitions, by id (in id order), unparsed. */
    Map<String, String> definitions() {
        Map<String, String> all = calls.await(commands.hgetall(Keys.SCHEDULE_REGISTRY).toCompletableFuture(),
                "read the schedules in " + Keys.SCHEDULE_REGISTRY);
        Map<String, String> sorted = new LinkedHashMap<>();
        all.keySet().stream().sorted().forEach(id -> sorted.put(id, all.get(id)));
        return sorted;
    }

    /** One definition as stored; null when the registry has none of that id. */
    String definition(String id) {
        return calls.await(commands.hget(Keys.SCHEDULE_REGISTRY, id).toCompletableFuture(),
                "read schedule '" + id + "' in " + Keys.SCHEDULE_REGISTRY);
    }

    /** Every schedule in the registry with its state, in id order. */
    List<Record> all() {
        return withStates(definitions());
    }

    /** These definitions (id -> JSON) with their states; the state reads go out together. */
    List<Record> withStates(Map<String, String> definitions) {
        List<Record> records = new ArrayList<>();
        List<ScheduleSpec> specs = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        List<CompletableFuture<Map<String, String>>> states = new ArrayList<>();
        for (Map.Entry<String, String> entry : definitions.entrySet()) {
            ScheduleSpec spec;
            String key;
            try {
                spec = ScheduleSpec.fromJson(entry.getKey(), entry.getValue());
                key = stateKey(spec);
            } catch (RuntimeException e) {
                records.add(new Record(new ScheduleSpec(entry.getKey(), entry.getKey(), null, null, null, null, null, null, true),
                        null, Map.of(), "unreadable definition in " + Keys.SCHEDULE_REGISTRY + ": " + e.getMessage()));
                continue;
            }
            specs.add(spec);
            sources.add(ScheduleSpec.sourceOf(entry.getValue()));
            states.add(calls.bounded(commands.hgetall(key).toCompletableFuture(), "read the state of schedule '"
                    + spec.id() + "' in " + key));
        }
        for (int i = 0; i < specs.size(); i++) {
            try {
                records.add(new Record(specs.get(i), sources.get(i), calls.await(states.get(i), "read the state of schedule '"
                        + specs.get(i).id() + "'"), null));
            } catch (TaskpoolException e) {
                // (one state key that cannot be read, e.g. of the wrong type, hides no other schedule)
                records.add(new Record(specs.get(i), sources.get(i), Map.of(), e.getMessage()));
            }
        }
        records.sort(Comparator.comparing(record -> record.spec().id()));
        return records;
    }
}
