package dev.taskpool.worker.runtime;

import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.worker.process.ProcessException;
import java.util.List;
import java.util.Locale;

/**
 * {@code schedules.<id>.Start}, {@code schedules.<id>.Stop} and {@code schedules.<id>.Trigger}: the
 * schedule's state in Redis changes, so the change holds for every worker at once. The id is any
 * schedule Redis knows (of this app's files or a client's). Each returns null, as Yao's do.
 */
final class ScheduleProcesses {
    static final List<String> METHODS = List.of("start", "stop", "trigger");

    private final ScheduleOperations operations;
    private final String by;

    /** @param by who the state says stopped, started or triggered the schedule */
    ScheduleProcesses(ScheduleOperations operations, String by) {
        this.operations = operations;
        this.by = by;
    }

    /** Why {@code name} is no schedule process, or null when it is one. */
    static String whyUnresolvable(String name) {
        int lastDot = name.lastIndexOf('.');
        if (lastDot <= "schedules.".length()) {
            return "unknown process '" + name + "': expected schedules.<id>.Start, .Stop or .Trigger";
        }
        String method = name.substring(lastDot + 1).toLowerCase(Locale.ROOT);
        return METHODS.contains(method) ? null
                : "unknown process '" + name + "': a schedule offers Start, Stop and Trigger";
    }

    Object call(String name, List<Object> args) {
        String problem = whyUnresolvable(name);
        if (problem != null) {
            throw new ProcessException(problem);
        }
        if (!args.isEmpty()) {
            throw new ProcessException(name + " takes no arguments, got " + args.size());
        }
        int lastDot = name.lastIndexOf('.');
        String id = name.substring("schedules.".length(), lastDot);
        switch (name.substring(lastDot + 1).toLowerCase(Locale.ROOT)) {
            case "start" -> operations.start(id, by);
            case "stop" -> operations.stop(id, by);
            default -> operations.trigger(id, by);
        }
        return null;
    }
}
