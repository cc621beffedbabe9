package dev.taskpool.core.schedule;

import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.ScriptReply;
import dev.taskpool.core.lua.ScriptRunner;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The schedules as operators and applications see them: listing, stop, start, trigger, and creating,
 * changing and removing one. Everything is read from Redis (the registry {@link Keys#SCHEDULE_REGISTRY}
 * and each schedule's state), so no app directory is needed. Stop, start and trigger are one
 * {@code schedule-control} script call on the schedule's state: they hold for every worker at once.
 * One per {@link RedisConnector}; thread-safe.
 */
public final class ScheduleOperations {
    /** {@link ScheduleInfo#source()} of a schedule published by a worker from its app's schedule files. */
    public static final String SOURCE_APP = "app";
    /** {@link ScheduleInfo#source()} of a schedule a Java application created through the client. */
    public static final String SOURCE_CLIENT = "client";

    private final RedisClusterAsyncCommands<String, String> commands;
    private final Clock clock;
    private final RedisCalls calls;
    private final ScriptRunner scripts;
    private final ScheduleRecords records;

    /** Operations that judge "now" by Redis' clock, as every worker's firer does (see {@link RedisConnector#clock()}). */
    public ScheduleOperations(RedisConnector redis) {
        this(redis, redis.clock());
    }

    public ScheduleOperations(RedisConnector redis, Clock clock) {
        this.commands = redis.async();
        this.clock = clock;
        this.calls = new RedisCalls(redis, true);
        this.scripts = new ScriptRunner(redis.async());
        this.records = new ScheduleRecords(commands, calls);
    }

    /** Every schedule known to Redis, by id. */
    public List<ScheduleInfo> list() {
        return records.all().stream().map(ScheduleRecords.Record::info).toList();
    }

    public Optional<ScheduleInfo> get(String id) {
        return record(id).map(ScheduleRecords.Record::info);
    }

    /** Stops the schedule on every worker: no firing after this returns (a pending trigger still fires). */
    public void stop(String id, String by) {
        ScheduleSpec spec = known(id);
        control(spec, "stop", by, 0);
    }

    /** Resumes a stopped schedule from its first slot after now; the slots missed while stopped are not run. */
    public void start(String id, String by) {
        ScheduleSpec spec = known(id);
        control(spec, "start", by, spec.timing().nextAfter(notBeforeLastFiring(spec, clock.millis())));
    }

    /** One extra firing now, carried out by the next worker that looks (within about a second), also while stopped. */
    public void trigger(String id, String by) {
        control(known(id), "trigger", by, 0);
    }

    /** Creates or changes a schedule (source {@code client}); a changed cron or zone recomputes its next fire time. */
    public void put(ScheduleSpec spec, String by) {
        publish(spec, SOURCE_CLIENT, by);
    }

    /**
     * Writes a schedule's definition to the registry (last writer wins) and sets its timing: its next
     * fire time is computed when it is new, or when its cron or zone changed. Its stopped state and
     * history are kept. When it moves to another task kind (or between task and process), its state
     * in the old place is removed.
     *
     * @param source {@link #SOURCE_APP} or {@link #SOURCE_CLIENT}
     */
    public void publish(ScheduleSpec spec, String source, String by) {
        List<String> problems = spec.problems("schedule '" + spec.id() + "'");
        if (!problems.isEmpty()) {
            throw new DefinitionException("schedule", problems);
        }
        long now = clock.millis();
        String previous = records.definition(spec.id());
        calls.await(commands.hset(Keys.SCHEDULE_REGISTRY, spec.id(), spec.toJson(source, by, now)).toCompletableFuture(),
                "write schedule '" + spec.id() + "' to " + Keys.SCHEDULE_REGISTRY);
        String oldKey = previous == null ? null : stateKeyOf(spec.id(), previous);
        if (oldKey != null && !oldKey.equals(ScheduleRecords.stateKey(spec))) {
            calls.await(commands.del(oldKey).toCompletableFuture(), "remove the old state " + oldKey);
        }
        retime(spec, now);
    }

    /** Removes a schedule: its definition and its state. False when there was none. */
    public boolean remove(String id) {
        String definition = records.definition(id);
        if (definition == null) {
            return false;
        }
        String key = stateKeyOf(id, definition);
        long removed = calls.await(commands.hdel(Keys.SCHEDULE_REGISTRY, id).toCompletableFuture(),
                "remove schedule '" + id + "' from " + Keys.SCHEDULE_REGISTRY);
        if (key != null) {
            String what = "remove the state of schedule '" + id + "' (" + key + ")";
            calls.await(commands.del(key).toCompletableFuture(), what);
        }
        return removed > 0;
    }

    /** The state key a stored definition names; null for an entry written by hand that names none. */
    private static String stateKeyOf(String id, String definition) {
        try {
            return ScheduleRecords.stateKey(ScheduleSpec.fromJson(id, definition));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Sets the schedule's next fire time from its cron and zone, when they are new or changed. */
    void retime(ScheduleSpec spec, long now) {
        control(spec, "timing", "", spec.timing().nextAfter(notBeforeLastFiring(spec, now)));
    }

    /**
     * {@code now}, or the schedule's last fire time if that is later: the next fire time is
     * computed after it, so a slot already fired is never fired again, even when the process that
     * starts or retimes the schedule reads a clock a little behind the one that fired it.
     */
    private long notBeforeLastFiring(ScheduleSpec spec, long now) {
        String key = ScheduleRecords.stateKey(spec);
        String last = calls.await(commands.hget(key, "last_fire_at").toCompletableFuture(),
                "read the last fire time of schedule '" + spec.id() + "' (" + key + ")");
        try {
            return last == null ? now : Math.max(now, Long.parseLong(last));
        } catch (NumberFormatException e) {
            return now;   // (a value written by hand: the clock alone decides)
        }
    }

    private Optional<ScheduleRecords.Record> record(String id) {
        String definition = records.definition(id);
        if (definition == null) {
            return Optional.empty();
        }
        return records.withStates(Map.of(id, definition)).stream().findFirst();
    }

    private ScheduleSpec known(String id) {
        String definition = records.definition(id);
        if (definition == null) {
            throw new UnknownScheduleException(id);
        }
        return ScheduleSpec.fromJson(id, definition);
    }

    private void control(ScheduleSpec spec, String action, String by, long next) {
        String key = ScheduleRecords.stateKey(spec);
        List<Object> reply = calls.await(scripts.run(LuaScript.SCHEDULE_CONTROL, new String[] {key}, action,
                by == null ? "" : by, Long.toString(clock.millis()), Long.toString(next), spec.timingKey()),
                action + " schedule '" + spec.id() + "' (" + key + ")");
        ScriptReply.of(reply);   // DONE or ALREADY_DONE: both leave the schedule as asked
    }
}
