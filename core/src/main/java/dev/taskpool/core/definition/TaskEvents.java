package dev.taskpool.core.definition;

import java.util.LinkedHashMap;
import java.util.Map;

/** The event handlers of a task: process names, each optional (null when not set). */
public record TaskEvents(String next, String add, String success, String error, String progress) {
    public static final TaskEvents NONE = new TaskEvents(null, null, null, null, null);

    /** The handlers that are set, by event name, in a stable order. */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        if (next != null) map.put("next", next);
        if (add != null) map.put("add", add);
        if (success != null) map.put("success", success);
        if (error != null) map.put("error", error);
        if (progress != null) map.put("progress", progress);
        return map;
    }
}
