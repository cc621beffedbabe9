package dev.taskpool.worker.java;

import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.spring.TaskSchedule;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the {@link TaskProcessor} and {@link TaskSchedule} methods of an object into
 * {@link JavaTask}s. The object's class and its superclasses are read, so that a subclass made by
 * a proxy (Spring's, for {@code @Transactional}) is read through to the annotated class, and the
 * methods are called on the object itself, through the proxy.
 */
public final class AnnotatedTasks {
    private AnnotatedTasks() {
    }

    /**
     * The kinds {@code bean}'s methods process (none when it has no annotated method).
     *
     * @throws DefinitionException naming the method and the attribute of every bad annotation
     */
    public static List<JavaTask> scan(Object bean) {
        Objects.requireNonNull(bean, "bean");
        List<JavaTask> tasks = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Set<String> seen = new HashSet<>();   // name and parameters: an override hides its superclass's method
        for (Class<?> type = bean.getClass(); type != null && type != Object.class; type = type.getSuperclass()) {
            for (Method method : type.getDeclaredMethods()) {
                if (method.isBridge() || method.isSynthetic()) {
                    continue;
                }
                TaskProcessor processor = method.getAnnotation(TaskProcessor.class);
                boolean hidden = !seen.add(method.getName() + List.of(method.getParameterTypes()));
                if (processor == null) {
                    if (method.isAnnotationPresent(TaskSchedule.class)) {
                        problems.add("@TaskSchedule on " + MethodProcessor.describe(method) + ": the method needs"
                                + " @TaskProcessor too (a schedule adds tasks of the method's kind)");
                    }
                    continue;
                }
                if (hidden && !isProxySubclass(bean.getClass(), type)) {
                    continue;
                }
                read(bean, method, processor, problems).ifPresent(tasks::add);
            }
        }
        if (!problems.isEmpty()) {
            throw new DefinitionException(problems);
        }
        return List.copyOf(tasks);
    }

    /** Whether the annotated class sits under a generated subclass whose overrides carry no annotations. */
    private static boolean isProxySubclass(Class<?> beanClass, Class<?> declaring) {
        return beanClass != declaring && beanClass.getName().contains("$$");
    }

    private static Optional<JavaTask> read(Object bean, Method method, TaskProcessor annotation, List<String> problems) {
        String where = "@TaskProcessor(\"" + annotation.value() + "\") on " + MethodProcessor.describe(method);
        int before = problems.size();
        if (!TaskIds.isValid(annotation.value())) {
            problems.add(where + ": the task id is not valid: expected dot-separated words of letters, digits, '_' and '-'");
            return Optional.empty();
        }
        if (method.getParameters().length > 0) {
            long contexts = List.of(method.getParameterTypes()).stream().filter(t -> t == TaskContext.class).count();
            if (contexts > 1) {
                problems.add(where + ": at most one TaskContext parameter, got " + contexts);
            }
        }
        TaskDefinition definition = definition(annotation, where, problems);
        List<ScheduleSpec> schedules = new ArrayList<>();
        TaskSchedule schedule = method.getAnnotation(TaskSchedule.class);
        if (schedule != null) {
            try {
                schedules.add(ScheduleSpec.builder(schedule.id().isEmpty() ? annotation.value() : schedule.id())
                        .name("@TaskSchedule on " + MethodProcessor.describe(method)).cron(schedule.cron())
                        .timezone(schedule.timezone()).task(annotation.value()).missed(schedule.missed()).build());
            } catch (DefinitionException e) {
                e.problems().forEach(problem -> problems.add("@TaskSchedule on " + MethodProcessor.describe(method) + ": " + problem));
            }
        }
        if (problems.size() > before) {
            return Optional.empty();
        }
        MethodProcessor processor = new MethodProcessor(bean, method);
        return Optional.of(new JavaTask(annotation.value(), processor, Optional.of(definition), schedules, processor.label()));
    }

    /** The definition the annotation's attributes make, each bad one added to {@code problems}. */
    static TaskDefinition definition(TaskProcessor a, String where, List<String> problems) {
        int before = problems.size();
        atLeast(where, "workerNums", a.workerNums(), 1, problems);
        atLeast(where, "attempts", a.attempts(), 0, problems);
        atLeast(where, "attemptAfterMillis", a.attemptAfterMillis(), 0, problems);
        atLeast(where, "timeoutSeconds", a.timeoutSeconds(), 1, problems);
        atLeast(where, "size", a.size(), 0, problems);
        atLeast(where, "keepSeconds", a.keepSeconds(), 1, problems);
        if (a.partitions() < 1 || a.partitions() > TaskDefinition.MAX_PARTITIONS) {
            problems.add(where + ": partitions must be from 1 to " + TaskDefinition.MAX_PARTITIONS + ", got " + a.partitions());
        } else if (a.size() > 0 && a.size() < a.partitions()) {
            problems.add(where + ": partitions " + a.partitions() + " is more than size " + a.size()
                    + ", which the partitions share");
        }
        if (problems.size() > before) {
            return null;
        }
        int size = a.size() == 0 ? Integer.MAX_VALUE : a.size();
        return new TaskDefinition(a.value(), where, a.name().isBlank() ? a.value() : a.name(), a.workerNums(), a.attempts(),
                Duration.ofMillis(a.attemptAfterMillis()), Duration.ofSeconds(a.timeoutSeconds()), size,
                JavaTask.processName(a.value()), TaskEvents.NONE, Duration.ofSeconds(a.keepSeconds()), Backoff.FIXED,
                FlowControl.NONE, a.partitions());
    }

    private static void atLeast(String where, String attribute, long value, long minimum, List<String> problems) {
        if (value < minimum) {
            problems.add(where + ": " + attribute + " must be at least " + minimum + ", got " + value);
        } else if (value > Integer.MAX_VALUE) {
            problems.add(where + ": " + attribute + " must be at most " + Integer.MAX_VALUE + ", got " + value);
        }
    }
}
