package dev.taskpool.core.ops;

import dev.taskpool.core.model.TaskInfo;
import java.util.List;

/**
 * One page of a listing, newest first. {@code nextCursor} is opaque: pass it as {@code after} to
 * get the next page; it is null on the last page.
 */
public record TaskPage(List<TaskInfo> tasks, String nextCursor) {
    public TaskPage {
        tasks = List.copyOf(tasks);
    }
}
