package dev.taskpool.core.ops;

import java.util.List;

/** A live worker process, from its presence record {@code taskpool:worker:<id>}. */
public record WorkerInfo(String id, String host, long pid, List<String> tasks, int busySlots, int totalSlots,
                         long startedAtMs, long seenAtMs) {
    public WorkerInfo {
        tasks = List.copyOf(tasks);
    }
}
