package dev.taskpool.worker.java;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.schedule.ScheduleSpec;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A kind processed by Java code.
 *
 * @param kind       the kind's id
 * @param processor  what runs each task
 * @param definition the definition to use when the app directory has none for the kind (empty:
 *                   the app directory must have one)
 * @param schedules  schedules that add tasks of this kind
 * @param source     where it was declared, for messages (e.g. {@code MailService.send(Mail)})
 */
public record JavaTask(String kind, JavaProcessor processor, Optional<TaskDefinition> definition,
                       List<ScheduleSpec> schedules, String source) {
    public JavaTask {
        Objects.requireNonNull(kind, "kind");
        if (!TaskIds.isValid(kind)) {
            throw new IllegalArgumentException(source + ": task id '" + kind + "' is not valid: expected dot-separated"
                    + " words of letters, digits, '_' and '-'");
        }
        Objects.requireNonNull(processor, "processor");
        definition = Objects.requireNonNullElse(definition, Optional.empty());
        schedules = List.copyOf(schedules);
    }

    /** A kind whose definition comes from the app directory's {@code tasks/<kind>.yao}. */
    public static JavaTask of(String kind, JavaProcessor processor) {
        return new JavaTask(kind, processor, Optional.empty(), List.of(), "Java processor of " + kind);
    }

    /** The name of the process the kind's definition runs: {@code java.<kind>}. */
    public String processName() {
        return processName(kind);
    }

    static String processName(String kind) {
        return "java." + kind;
    }
}
