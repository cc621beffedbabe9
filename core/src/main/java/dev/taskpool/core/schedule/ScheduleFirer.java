package dev.taskpool.core.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.EventMode;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptReply;
import dev.taskpool.core.lua.ScriptRunner;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fires what is due: every worker calls {@link #fire(long)} about once a second (and at each
 * schedule's next fire time). There is no leader: every worker may try every firing, and the
 * scripts' compare-and-set on the schedule's state lets exactly one call make it. A task schedule's
 * firing adds its task in the same script ({@code schedule-fire}); a process schedule's firing is
 * won by one worker ({@code schedule-claim}), which then runs the process: {@link Round#processes()}.
 *
 * <p>After downtime the slots between the stored next fire time and now are missed; the schedule's
 * {@code missed} says what happens: {@code once} fires one firing (stamped with the most recent
 * missed slot), {@code skip} fires only a slot that is just due (fell due at most
 * {@link #JUST_DUE_MS} ago) and lets the rest pass, {@code all} fires each missed slot, the most
 * recent {@link #MISSED_CAP} of them. In every case the next fire time moves to the first slot after now.
 */
public final class ScheduleFirer {
    /** A slot that fell due at most this long ago is "just due" (not missed) for {@code missed: skip}. */
    public static final long JUST_DUE_MS = 5_000;
    /** The most missed slots {@code missed: all} fires after downtime (the most recent ones). */
    public static final int MISSED_CAP = 100;
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$ENV\\.([A-Za-z_][A-Za-z0-9_]*)");

    private final RedisConnector redis;
    private final RedisCalls calls;
    private final ScriptRunner scripts;
    private final ScheduleRecords records;
    private final ScheduleOperations operations;
    private final UnaryOperator<String> environment;
    private final Predicate<String> runsProcess;
    private final String eventMode;

    /** A firer that fires every schedule, process schedules included. */
    public ScheduleFirer(RedisConnector redis, UnaryOperator<String> environment) {
        this(redis, environment, process -> true);
    }

    /**
     * @param environment looks up {@code $ENV.NAME} in args at each firing; null when a variable is not set
     * @param runsProcess whether this runtime can run a process: a process schedule is fired only
     *                    by runtimes that can (the registry is shared by every app on the Redis)
     */
    public ScheduleFirer(RedisConnector redis, UnaryOperator<String> environment, Predicate<String> runsProcess) {
        this.redis = redis;
        this.calls = new RedisCalls(redis);
        this.scripts = new ScriptRunner(redis.async());
        this.records = new ScheduleRecords(redis.async(), calls);
        this.operations = new ScheduleOperations(redis);
        this.environment = environment;
        this.runsProcess = runsProcess;
        this.eventMode = EventMode.of(redis);
    }

    /** A process firing this worker won: it runs {@code process} with {@code args} ($ENV resolved). */
    public record ProcessFiring(String scheduleId, String process, List<Object> args, long fireAt) {
    }

    /**
     * What one look did.
     *
     * @param processes  the process firings this worker won, to run now
     * @param tasksAdded the tasks this worker's calls added
     * @param nextDue    the earliest next fire time of a running schedule, epoch ms; 0 when none
     * @param failures   what failed, one per schedule (the others were fired all the same)
     */
    public record Round(List<ProcessFiring> processes, int tasksAdded, long nextDue, List<TaskpoolException> failures) {
    }

    /** Looks at every schedule at {@code now} (epoch ms, the worker's clock) and fires what is due. */
    public Round fire(long now) {
        List<ProcessFiring> processes = new ArrayList<>();
        List<TaskpoolException> failures = new ArrayList<>();
        int added = 0;
        long nextDue = 0;
        for (ScheduleRecords.Record record : records.all()) {
            ScheduleSpec spec = record.spec();
            if (record.problem() != null) {
                failures.add(new TaskpoolException("schedule '" + spec.id() + "' is not fired: " + record.problem()));
                continue;
            }
            if (!spec.firesTask() && !runsProcess.test(spec.process())) {
                continue;   // (a process of another app)
            }
            try {
                long[] outcome = fire(record, now, processes);
                added += (int) outcome[0];
                if (outcome[1] != 0 && (nextDue == 0 || outcome[1] < nextDue)) {
                    nextDue = outcome[1];
                }
            } catch (TaskpoolException e) {
                failures.add(e);
            } catch (RuntimeException e) {
                failures.add(new TaskpoolException("schedule '" + spec.id() + "': " + e.getMessage(), e));
            }
        }
        return new Round(List.copyOf(processes), added, nextDue, List.copyOf(failures));
    }

    /** One schedule's look: returns the tasks added and its next fire time (0: none). */
    private long[] fire(ScheduleRecords.Record record, long now, List<ProcessFiring> processes) {
        ScheduleSpec spec = record.spec();
        CronTiming timing = spec.timing();
        int added = 0;
        String trigger = record.field("trigger_at");
        if (trigger != null) {
            // (before any retime: a pending trigger fires also for a cron that has no slot left)
            added += Math.max(0, fireOne(spec, "trigger", trigger, record.number("trigger_at"), 0, now, processes));
        }
        boolean timingChanged = !spec.timingKey().equals(record.field("timing"));
        boolean slotLost = record.field("next_fire_at") == null && !record.stopped() && timing.nextAfter(now) != 0;
        if (timingChanged || slotLost) {
            operations.retime(spec, now);   // (new, changed, or its next fire time lost: fires from the next look)
            return new long[] {added, 0};
        }
        long next = record.number("next_fire_at");
        if (record.stopped() || next == 0) {
            return new long[] {added, 0};
        }
        if (next <= now) {
            added += fireDue(spec, timing, next, now, processes);
            next = timing.nextAfter(now);
        }
        return new long[] {added, next};
    }

    /** The slots from {@code next} to now, by the schedule's {@code missed}. Returns the tasks added. */
    private int fireDue(ScheduleSpec spec, CronTiming timing, long next, long now, List<ProcessFiring> processes) {
        long after = timing.nextAfter(now);
        List<Long> found = timing.latestBetween(next, now, spec.missed().equals(ScheduleSpec.MISSED_ALL) ? MISSED_CAP : 1);
        // (next_fire_at is always a slot of the timing it was computed for; should it not be, it fires as one)
        List<Long> slots = found.isEmpty() ? List.of(next) : found;
        long latest = slots.getLast();
        switch (spec.missed()) {
            case ScheduleSpec.MISSED_SKIP -> {
                String mode = now - latest > JUST_DUE_MS ? "skip" : "slot";
                return Math.max(0, fireOne(spec, mode, Long.toString(next), latest, after, now, processes));
            }
            case ScheduleSpec.MISSED_ALL -> {
                int added = 0;
                long expected = next;
                if (!slots.isEmpty() && slots.getFirst() > next) {
                    // more were missed than the cap: the oldest pass without firing
                    if (fireOne(spec, "skip", Long.toString(next), next, slots.getFirst(), now, processes) < 0) {
                        return 0;
                    }
                    expected = slots.getFirst();
                }
                for (int i = 0; i < slots.size(); i++) {
                    long slot = slots.get(i);
                    long following = i + 1 < slots.size() ? slots.get(i + 1) : after;
                    int made = fireOne(spec, "slot", Long.toString(expected), slot, following, now, processes);
                    if (made < 0) {
                        break;   // another worker is firing them
                    }
                    added += made;
                    expected = following;
                }
                return added;
            }
            default -> {
                return Math.max(0, fireOne(spec, "slot", Long.toString(next), latest, after, now, processes));
            }
        }
    }

    /**
     * One script call for one firing. Returns 1 when it added a task, 0 when the firing was made
     * without one (a process, a skip, a refusal recorded), -1 when another call had made it.
     */
    private int fireOne(ScheduleSpec spec, String mode, String expected, long fireAt, long next, long now,
            List<ProcessFiring> processes) {
        String args = "[]";
        String error = "";
        if (!mode.equals("skip")) {
            try {
                args = resolve(spec.args());
            } catch (TaskpoolException e) {
                error = e.getMessage();
            }
        }
        String what = "fire schedule '" + spec.id() + "' (" + mode + " " + fireAt + ")";
        if (spec.firesTask()) {
            Keys keys = Keys.of(spec.task());
            List<Object> reply = calls.await(scripts.run(LuaScript.SCHEDULE_FIRE, new String[] {keys.definition(),
                    keys.sequence(), keys.waiting(), keys.wake(), keys.taskPrefix(), keys.delayed(), keys.stats(),
                    keys.schedule(spec.id())}, spec.task(), keys.eventsPrefix(), eventMode, spec.id(), mode, expected,
                    Long.toString(fireAt), Long.toString(next), Long.toString(now), spec.overlap() ? "1" : "0", "", args,
                    error, keys.kindEvents()), what);
            if (!ScriptReply.DONE.is(reply)) {
                return -1;
            }
            return reply.size() > 1 && reply.get(1) instanceof Long id && id > 0 ? 1 : 0;
        }
        List<Object> reply = calls.await(scripts.run(LuaScript.SCHEDULE_CLAIM,
                new String[] {Keys.processSchedule(spec.id())}, mode, expected, Long.toString(fireAt), Long.toString(next),
                error), what);
        if (!ScriptReply.DONE.is(reply)) {
            return -1;
        }
        if (!mode.equals("skip") && error.isEmpty()) {
            processes.add(new ProcessFiring(spec.id(), spec.process(), Json.readArgs(args, "schedule '" + spec.id() + "' args"),
                    fireAt));
        }
        return 0;
    }

    /** Records why a process firing failed, in its state's {@code last_error}; clears it when {@code error} is null. */
    public void recordProcessResult(String scheduleId, String error) {
        String key = Keys.processSchedule(scheduleId);
        if (error == null) {
            calls.await(redis.async().hdel(key, "last_error").toCompletableFuture(), "clear last_error of " + key);
        } else {
            calls.await(redis.async().hset(key, Map.of("last_error", error)).toCompletableFuture(), "record last_error of " + key);
        }
    }

    /** The args with every {@code "$ENV.NAME"} string replaced by the variable's value. */
    String resolve(String args) {
        JsonNode node = Json.read(args, "args");
        return Json.write(resolveNode(node));
    }

    private JsonNode resolveNode(JsonNode node) {
        if (node.isTextual()) {
            Matcher reference = ENV_REFERENCE.matcher(node.asText());
            if (!reference.matches()) {
                return node;
            }
            String value = environment.apply(reference.group(1));
            if (value == null) {
                throw new TaskpoolException("args: environment variable " + reference.group(1) + " is not set on the firing"
                        + " worker; the firing made no task");
            }
            return TextNode.valueOf(value);
        }
        if (node instanceof ArrayNode array) {
            ArrayNode copy = Json.NODES.arrayNode();
            array.forEach(element -> copy.add(resolveNode(element)));
            return copy;
        }
        if (node instanceof ObjectNode object) {
            ObjectNode copy = Json.NODES.objectNode();
            for (Iterator<Map.Entry<String, JsonNode>> fields = object.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                copy.set(field.getKey(), resolveNode(field.getValue()));
            }
            return copy;
        }
        return node;
    }
}
