package dev.taskpool.worker.runtime;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.definition.DefinitionLoader;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.json.ValueLimits;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.schedule.ScheduleLoader;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.worker.metrics.WorkerMetrics;
import dev.taskpool.worker.process.ProcessException;
import dev.taskpool.worker.java.JavaTasks;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.script.HostBridge;
import dev.taskpool.worker.script.ScriptEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded app: its task definitions, its scripts and the processes they can call, connected to
 * Redis. Workers and {@code taskpool run} both stand on one. Opening it checks everything (bad
 * definitions, script syntax, process names that resolve to nothing) before anything runs, then
 * publishes the definitions to Redis so that thin clients and the enqueue script know them.
 */
public final class AppRuntime implements HostBridge, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppRuntime.class);
    private static final Logger console = LoggerFactory.getLogger("script");

    private final Path appDir;
    private final Map<String, TaskDefinition> definitions;
    private final ProcessRegistry registry;
    private final AddStore adds;
    private final RunStore runs;
    private final TaskReads reads;
    private final InstantSource clock;
    private final TaskProcesses tasks;
    private final List<ScheduleLoader.Loaded> schedules;
    private final ScheduleProcesses scheduleProcesses;
    private final ValueLimits limits;
    private ScriptEngine scripts;
    private volatile WorkerMetrics metrics = WorkerMetrics.NONE;

    private AppRuntime(Path appDir, List<TaskDefinition> definitions, List<ScheduleLoader.Loaded> schedules, ProcessRegistry registry,
                       AddStore adds, InstantSource clock, ValueLimits limits) {
        this.appDir = appDir;
        this.definitions = new LinkedHashMap<>();
        definitions.forEach(definition -> this.definitions.put(definition.id(), definition));
        this.registry = registry;
        this.adds = adds;
        this.runs = new RunStore(adds.redis());
        this.reads = new TaskReads(adds.redis(), adds.layouts());   // (the layouts the adds read, read once for both)
        this.clock = clock;
        this.limits = limits;
        this.tasks = new TaskProcesses(this);
        this.schedules = List.copyOf(schedules);
        this.scheduleProcesses = new ScheduleProcesses(new ScheduleOperations(adds.redis()), "a process");
    }

    /**
     * Loads and checks the app, then publishes its definitions through {@code adds}, which its
     * processes also add through (runs and reads go over the same connection); default value limits.
     */
    public static AppRuntime open(Path appDir, AddStore adds, ProcessRegistry registry, InstantSource clock) {
        return open(appDir, adds, registry, clock, ValueLimits.defaults());
    }

    /** As {@link #open(Path, AddStore, ProcessRegistry, InstantSource)}, with these limits on arguments and results. */
    public static AppRuntime open(Path appDir, AddStore adds, ProcessRegistry registry, InstantSource clock,
                                  ValueLimits limits) {
        return open(appDir, new JavaTasks(), adds, registry, clock, limits);
    }

    /**
     * Opens an app whose kinds come from {@code appDir} (null: none), joined with the kinds processed
     * in Java ({@link JavaTasks#join}); with neither, there is nothing to run and it is refused.
     */
    public static AppRuntime open(Path appDir, JavaTasks java, AddStore adds, ProcessRegistry registry,
                                  InstantSource clock, ValueLimits limits) {
        if (appDir != null && !Files.isDirectory(appDir)) {
            throw new TaskpoolException("app directory " + appDir
                    + (Files.exists(appDir) ? " is not a directory (give the directory that holds tasks/)" : " does not exist"));
        }
        if (appDir == null && java.isEmpty()) {
            throw new TaskpoolException("nothing to run: give an app directory or Java processors");
        }
        List<TaskDefinition> definitions = java.join(appDir == null ? List.of()
                : DefinitionLoader.withSystemEnvironment().loadApp(appDir));
        List<ScheduleLoader.Loaded> schedules = new ArrayList<>(appDir == null ? List.of() : ScheduleLoader.loadApp(appDir));
        schedules.addAll(java.schedules());
        AppRuntime runtime = new AppRuntime(appDir, definitions, schedules, registry, adds, clock, limits);
        java.registerInto(registry, runtime, runtime.definitions);
        runtime.scripts = ScriptEngine.load(appDir, runtime);
        try {
            runtime.checkProcessNames();
            definitions.forEach(adds::publish);
            runtime.publishSchedules();
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
        log.info("loaded {}: {} task(s) {}{}", appDir == null ? "Java processors" : "app " + appDir, definitions.size(),
                runtime.taskIds(), schedules.isEmpty() ? ""
                        : ", " + schedules.size() + " schedule(s) " + runtime.schedules().stream().map(ScheduleSpec::id).toList());
        return runtime;
    }

    /**
     * Writes the app's schedules to Redis' registry, as the definitions are published: the last
     * runtime to start wins when two app versions differ. Their state (stopped, next fire) is kept.
     */
    private void publishSchedules() {
        ScheduleOperations operations = new ScheduleOperations(redis());
        for (ScheduleSpec schedule : schedules()) {
            operations.publish(schedule, ScheduleOperations.SOURCE_APP,
                    appDir == null ? "Java processors" : "app " + appDir.toAbsolutePath().normalize());
        }
    }

    /** Every {@code process} and {@code event.*} must name something that exists. */
    private void checkProcessNames() {
        List<String> problems = new ArrayList<>();
        for (TaskDefinition definition : definitions.values()) {
            Map<String, String> named = new LinkedHashMap<>();
            named.put("process", definition.process());
            definition.events().asMap().forEach((event, handler) -> named.put("event." + event, handler));
            named.forEach((field, process) -> {
                String problem = whyUnresolvable(process);
                if (problem != null) {
                    problems.add(definition.source() + ": field \"" + field + "\": " + problem);
                }
            });
        }
        for (ScheduleLoader.Loaded loaded : schedules) {
            ScheduleSpec schedule = loaded.spec();
            String source = loaded.source();
            if (schedule.firesTask() && definition(schedule.task()).isEmpty()) {
                problems.add(source + ": field \"task\": the app has no task '" + schedule.task() + "' (tasks: "
                        + String.join(", ", taskIds()) + ")");
            } else if (!schedule.firesTask() && whyUnresolvable(schedule.process()) != null) {
                problems.add(source + ": field \"process\": " + whyUnresolvable(schedule.process()));
            }
        }
        if (!problems.isEmpty()) {
            throw new DefinitionException(problems);
        }
    }

    /** Why a process name resolves to nothing, or null when it resolves. */
    private String whyUnresolvable(String process) {
        String lower = process.toLowerCase(Locale.ROOT);
        if (registry.find(process).isPresent()) {
            return null;
        }
        if (lower.startsWith("tasks.")) {
            int lastDot = process.lastIndexOf('.');
            String task = process.substring("tasks.".length(), Math.max(lastDot, "tasks.".length()));
            String method = process.substring(lastDot + 1).toLowerCase(Locale.ROOT);
            if (definition(task).isEmpty()) {
                return "unknown process '" + process + "': the app has no task '" + task + "'";
            }
            return List.of("add", "addwith", "retryadd", "get", "progress").contains(method) ? null
                    : "unknown process '" + process + "': a task offers add, addWith, retryAdd, get and progress";
        }
        if (lower.startsWith("schedules.")) {
            return ScheduleProcesses.whyUnresolvable(process);
        }
        if (lower.startsWith("scripts.")) {
            String rest = process.substring("scripts.".length());
            int lastDot = rest.lastIndexOf('.');
            if (lastDot < 0) {
                return "unknown process '" + process + "': expected scripts.<file>.<Function>";
            }
            String group = rest.substring(0, lastDot);
            String function = rest.substring(lastDot + 1);
            if (scripts.file(group).isEmpty()) {
                return "unknown process '" + process + "': there is no scripts/" + group.replace('.', '/') + ".js";
            }
            return scripts.declares(group, function) ? null
                    : "unknown process '" + process + "': scripts/" + group.replace('.', '/') + ".js declares no function " + function;
        }
        return "unknown process '" + process + "': expected tasks.<id>.<method>, scripts.<file>.<Function> or one of the"
                + " processes registered from Java " + registry.names();
    }

    /** Calls any process by name (DESIGN §2); names are case-insensitive. */
    public Object call(String name, List<Object> args) {
        if (name == null || name.isBlank()) {
            throw new ProcessException("a process name is required");
        }
        String trimmed = name.trim();
        var handler = registry.find(trimmed);
        if (handler.isPresent()) {
            return handler.get().call(args);
        }
        String lower = trimmed.toLowerCase(Locale.ROOT);
        if (lower.startsWith("tasks.")) {
            return tasks.call(trimmed, args);
        }
        if (lower.startsWith("schedules.")) {
            return scheduleProcesses.call(trimmed, args);
        }
        if (lower.startsWith("scripts.")) {
            String rest = trimmed.substring("scripts.".length());
            int lastDot = rest.lastIndexOf('.');
            if (lastDot > 0) {
                return scripts.call(rest.substring(0, lastDot), rest.substring(lastDot + 1), args);
            }
        }
        throw new ProcessException(whyUnresolvable(trimmed));
    }

    // --- HostBridge: what scripts call -------------------------------------------------------

    @Override
    public Object process(String name, List<Object> args) {
        return call(name, args);
    }

    /**
     * {@code Progress(id, current, total, message)}, optionally after a task or process name
     * ({@code Progress('tasks.task.process', id, ...)}). Inside a run it lands on the running
     * task's kind whatever the name says; elsewhere the name must be {@code tasks.<id>...}.
     */
    @Override
    public void progress(List<Object> args) {
        List<Object> rest = args;
        String named = null;
        if (!rest.isEmpty() && rest.getFirst() instanceof String text && !text.matches("\\d+")) {
            named = text;
            rest = rest.subList(1, rest.size());
        }
        var running = CurrentRun.get();
        String task;
        if (running.isPresent()) {
            task = running.get().task();
        } else if (named != null && named.toLowerCase(Locale.ROOT).startsWith("tasks.") && named.lastIndexOf('.') > 6) {
            task = named.substring("tasks.".length(), named.lastIndexOf('.'));
        } else {
            throw new ProcessException("Progress(...) was called outside a running task; call it from a task's processor,"
                    + " or name the task: Progress('tasks.<id>.progress', id, current, total, message)");
        }
        TaskDefinition definition = definition(task).orElseThrow(() -> new ProcessException(
                "Progress(...): the app has no task '" + task + "'"));
        if (rest.size() == 3 && running.isPresent()) {
            tasks.progress(definition, running.get().id(), rest.get(0), rest.get(1), rest.get(2));
        } else if (rest.size() == 4) {
            tasks.progress(definition, rest.get(0), rest.get(1), rest.get(2), rest.get(3));
        } else {
            throw new ProcessException("Progress(...) expects (id, current, total, message), got " + rest.size() + " arguments");
        }
    }

    @Override
    public void log(String level, String text) {
        switch (level) {
            case "error" -> console.error(text);
            case "warn" -> console.warn(text);
            case "debug" -> console.debug(text);
            default -> console.info(text);
        }
    }

    // --- what workers use ----------------------------------------------------------------------

    public Optional<TaskDefinition> definition(String task) {
        TaskDefinition exact = definitions.get(task);
        if (exact != null) {
            return Optional.of(exact);
        }
        return definitions.values().stream().filter(d -> d.id().equalsIgnoreCase(task)).findFirst();
    }

    public List<TaskDefinition> definitions() {
        return List.copyOf(definitions.values());
    }

    public List<String> taskIds() {
        return List.copyOf(definitions.keySet());
    }

    /** The app's schedules (its {@code schedules/*.sch.yao} files). */
    public List<ScheduleSpec> schedules() {
        return schedules.stream().map(ScheduleLoader.Loaded::spec).toList();
    }

    /** Whether this app can run {@code process} (a process schedule fires only on runtimes that can). */
    public boolean canRun(String process) {
        return whyUnresolvable(process) == null;
    }

    /** Runs an event handler of a task; failures are logged, never thrown. */
    public void runEvent(TaskDefinition definition, String event, String handler, long id, List<Object> args) {
        tasks.runEvent(definition, event, handler, id, args);
    }

    /** Serialises task arguments, refusing what is too large to store. */
    String serializeArgs(String task, List<Object> args) {
        return limits.argsJson(task, args);
    }

    /** The largest arguments and results this runtime accepts. */
    /** Where this runtime and the worker on it report their work (default: nowhere). */
    public WorkerMetrics metrics() {
        return metrics;
    }

    /** Reports this runtime's work (adds) and its worker's (runs, retries...) to {@code metrics}; before the worker is made. */
    public void measureWith(WorkerMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    public ValueLimits limits() {
        return limits;
    }

    public ScriptEngine scripts() {
        return scripts;
    }

    /** Where this app's definitions are published and its processes add tasks. */
    public AddStore adds() {
        return adds;
    }

    /** Where the runs of this app's tasks are fetched, ended and kept alive. */
    public RunStore runs() {
        return runs;
    }

    /** Where this app reads a task. */
    public TaskReads reads() {
        return reads;
    }

    /** Script round trips made for this app so far (adds and runs). */
    public long scriptCalls() {
        return adds.scriptCalls() + runs.scriptCalls();
    }

    public InstantSource clock() {
        return clock;
    }

    /** The app directory, or null when every kind is processed in Java. */
    public Path appDir() {
        return appDir;
    }

    public RedisConnector redis() {
        return adds.redis();
    }

    @Override
    public void close() {
        if (scripts != null) {
            scripts.close();
        }
    }
}
