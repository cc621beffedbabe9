package dev.taskpool.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.schedule.ScheduleInfo;
import dev.taskpool.core.schedule.ScheduleOperations;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code taskpool schedules}: the cron schedules known to Redis (no app directory needed), and
 * {@code stop}, {@code start} and {@code trigger} on one of them. The state lives in Redis, so an
 * action holds for every worker; what was done is one line, or with --json one object. A schedule
 * that cannot be read is listed with why, and the listing exits {@value StatsCommand#INCOMPLETE}.
 */
@Command(name = "schedules", mixinStandardHelpOptions = true,
        description = "List the cron schedules (schedules/*.sch.yao of the apps, and those made through the Java client):"
                + " id, name, cron and zone, what a firing runs, next and last fire, the task it made, stopped or not,"
                + " the last error (no app directory needed). The subcommands stop, start or trigger one.",
        subcommands = {SchedulesCommand.Stop.class, SchedulesCommand.Start.class, SchedulesCommand.Trigger.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every schedule was read", "1:Redis could not be read at all (one line on stderr)",
                "3:listed, but some could not be read (written by hand, a key of the wrong type): their LAST ERROR says why"})
final class SchedulesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    Options.RedisOption redis;
    @Mixin
    Options.JsonOption output;

    @Override
    public Integer call() {
        List<ScheduleInfo> schedules = Operator.withSchedules(redis, ScheduleOperations::list);
        if (output.json) {
            ObjectNode root = Json.NODES.objectNode();
            ArrayNode rows = root.putArray("schedules");
            schedules.forEach(info -> rows.add(info.toJson()));
            Operator.printJson(root);
        } else if (schedules.isEmpty()) {
            Terminal.stdout().out().println("no schedules (no worker has published an app's schedules/ to this Redis,"
                    + " and no client has made one)");
        } else {
            ScheduleTable.of(schedules, System.currentTimeMillis()).print(Terminal.stdout());
        }
        long unreadable = schedules.stream().filter(info -> !info.readable()).count();
        if (unreadable == 0) {
            return 0;
        }
        // (as `taskpool stats` does: the rest is shown, and a script learns from the exit code that part is missing)
        spec.commandLine().getErr().println("taskpool: " + unreadable + " schedule(s) could not be read"
                + (output.json ? " (\"readable\": false, \"lastError\" says why)" : " (their LAST ERROR says why)")
                + "; the rest is shown");
        return StatsCommand.INCOMPLETE;
    }

    /**
     * Makes {@code change} to the schedule {@code id} and reads it back; with --json prints
     * {"action":..,"schedule":..,"state":{..}}. An unknown id is the operations' one line naming
     * it on stderr, exit 1.
     */
    private static Optional<ScheduleInfo> act(Options.RedisOption redis, Options.JsonOption output, String action, String id,
                                              BiConsumer<ScheduleOperations, String> change) {
        // (read back for the next fire time start set; empty only when it was removed at the same moment)
        Optional<ScheduleInfo> after = Operator.withSchedules(redis, schedules -> {
            change.accept(schedules, id);
            return schedules.get(id);
        });
        if (output.json) {
            ObjectNode json = Json.NODES.objectNode();
            json.put("action", action);
            json.put("schedule", id);
            after.ifPresent(info -> json.set("state", info.toJson()));
            Operator.printJson(json);
        }
        return after;
    }

    /** The sentence of a done action (made visible: it quotes the id as typed), unless --json. */
    private static void say(Options.JsonOption output, String sentence) {
        if (!output.json) {
            System.out.println(Visible.line(sentence));
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop a schedule: no worker fires it until `taskpool schedules start ID` (a firing already made runs on).")
    static final class Stop implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "ID", description = "the schedule's id (its file name without .sch.yao)")
        String id;

        @Override
        public void run() {
            act(redis, output, "stop", id, (schedules, schedule) -> schedules.stop(schedule, by.by));
            say(output, "stopped schedule " + id + ": no worker fires it until `taskpool schedules start " + id + "`");
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start a stopped schedule: it fires again from its next fire time after now"
                    + " (the times missed while it was stopped are not made up).")
    static final class Start implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "ID", description = "the schedule's id")
        String id;

        @Override
        public void run() {
            Optional<ScheduleInfo> after = act(redis, output, "start", id, (schedules, schedule) -> schedules.start(schedule, by.by));
            long now = System.currentTimeMillis();
            say(output, "started schedule " + id + after.filter(info -> info.nextFireAt() > 0)
                    .map(info -> ": next fire " + ScheduleTable.next(info.nextFireAt(), info.timezone(), now)).orElse(""));
        }
    }

    @Command(name = "trigger", mixinStandardHelpOptions = true,
            description = "Fire a schedule once now, besides its times, also a stopped one: a running worker carries"
                    + " the firing out (with none running, the request waits for one; a second trigger before it"
                    + " is carried out adds nothing). Its next fire time stays as it is.")
    static final class Trigger implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "ID", description = "the schedule's id")
        String id;

        @Override
        public void run() {
            act(redis, output, "trigger", id, (schedules, schedule) -> schedules.trigger(schedule, by.by));
            say(output, "triggered schedule " + id + ": a running worker fires it once"
                    + " (`taskpool schedules` shows the task it made as LAST TASK)");
        }
    }
}
