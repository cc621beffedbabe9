package dev.taskpool.worker.java;

import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.schedule.ScheduleLoader;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.script.HostBridge;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kinds an application processes in Java, joined to its app directory's definitions: a kind
 * defined there keeps its definition and gets the Java processor as its {@code process}; a kind
 * defined only in Java brings its own definition.
 */
public final class JavaTasks {
    private static final Logger log = LoggerFactory.getLogger(JavaTasks.class);

    private final Map<String, JavaTask> byKind = new LinkedHashMap<>();

    /** Adds a kind; a kind claimed twice is refused, naming both places. */
    public JavaTasks add(JavaTask task) {
        JavaTask earlier = byKind.putIfAbsent(task.kind(), task);
        if (earlier != null) {
            throw new DefinitionException(List.of("task " + task.kind() + " has two Java processors: " + earlier.source()
                    + " and " + task.source()));
        }
        return this;
    }

    public boolean isEmpty() {
        return byKind.isEmpty();
    }

    /**
     * The app's definitions with the Java kinds joined in (the app's order, then the Java-only
     * kinds in the order added).
     *
     * @throws DefinitionException when a kind has neither an app definition nor one of its own
     */
    public List<TaskDefinition> join(List<TaskDefinition> appDefinitions) {
        List<TaskDefinition> joined = new ArrayList<>();
        Map<String, JavaTask> unmatched = new LinkedHashMap<>(byKind);
        for (TaskDefinition definition : appDefinitions) {
            JavaTask java = unmatched.remove(definition.id());
            if (java == null) {
                joined.add(definition);
                continue;
            }
            if (!definition.process().equalsIgnoreCase(java.processName())) {
                log.info("task {}: processed by {} in place of its process {} ({})", definition.id(), java.source(),
                        definition.process(), definition.source());
            }
            joined.add(withProcess(definition, java.processName()));
        }
        List<String> problems = new ArrayList<>();
        for (JavaTask java : unmatched.values()) {
            if (java.definition().isPresent()) {
                joined.add(java.definition().get());
            } else {
                problems.add(java.source() + ": the app directory has no definition of task " + java.kind()
                        + " (tasks/" + java.kind().replace('.', '/') + ".yao), and none was given in Java");
            }
        }
        if (!problems.isEmpty()) {
            throw new DefinitionException(problems);
        }
        return joined;
    }

    /** The schedules the Java kinds declare, with where each was declared. */
    public List<ScheduleLoader.Loaded> schedules() {
        return byKind.values().stream().flatMap(java -> java.schedules().stream()
                .map(schedule -> new ScheduleLoader.Loaded(java.source(), schedule))).toList();
    }

    /**
     * Registers each kind's processor as the process {@code java.<kind>}, called as a task's
     * process is: the task's id first, then its arguments.
     */
    public void registerInto(ProcessRegistry registry, HostBridge bridge, Map<String, TaskDefinition> definitions) {
        for (JavaTask java : byKind.values()) {
            int maxRuns = definitions.get(java.kind()).maxRuns();
            registry.register(java.processName(), args -> {
                if (args.isEmpty() || !(args.getFirst() instanceof Number id)) {
                    throw new IllegalArgumentException("process " + java.processName() + " is called with the task's id"
                            + " first, then its arguments; got " + args.size() + " argument(s)");
                }
                RunContext context = RunContext.of(java.kind(), id.longValue(), maxRuns, bridge);
                try {
                    return java.processor().process(args.subList(1, args.size()), context);
                } catch (Exception e) {
                    throw JavaProcessorException.of(e);
                }
            });
        }
    }

    private static TaskDefinition withProcess(TaskDefinition d, String process) {
        return new TaskDefinition(d.id(), d.source(), d.name(), d.workerNums(), d.attempts(), d.attemptAfter(), d.timeout(),
                d.size(), process, d.events(), d.keep(), d.backoff(), d.flow(), d.partitions());
    }
}
