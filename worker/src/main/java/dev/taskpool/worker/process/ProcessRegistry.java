package dev.taskpool.worker.process;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** Processes registered from Java, by case-insensitive name; {@code utils.time.Sleep} is built in. */
public final class ProcessRegistry {
    private final Map<String, ProcessHandler> handlers = new ConcurrentHashMap<>();
    private final Map<String, String> displayNames = new ConcurrentHashMap<>();

    public ProcessRegistry() {
        register("utils.time.Sleep", BuiltinProcesses::sleep);
    }

    /** Registers (or replaces) a Java process. The name needs a group and a method: {@code models.task.save}. */
    public ProcessRegistry register(String name, ProcessHandler handler) {
        if (name == null || !name.matches("[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)+")) {
            throw new ProcessException("invalid process name '" + name + "': expected dot-separated words such as models.task.save");
        }
        String key = name.toLowerCase(Locale.ROOT);
        if (key.startsWith("tasks.") || key.startsWith("scripts.")) {
            throw new ProcessException("cannot register '" + name + "': names under tasks. and scripts. belong to the app");
        }
        handlers.put(key, handler);
        displayNames.put(key, name);
        return this;
    }

    public Optional<ProcessHandler> find(String name) {
        return Optional.ofNullable(handlers.get(name.toLowerCase(Locale.ROOT)));
    }

    public List<String> names() {
        return List.copyOf(new TreeMap<>(displayNames).values());
    }
}
