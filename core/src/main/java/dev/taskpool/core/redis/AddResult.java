package dev.taskpool.core.redis;

/** What an add did: the new task's id, or {@code 0} when the queue was full and nothing was written. */
public record AddResult(String task, long id) {
    public boolean isQueueFull() {
        return id == 0;
    }
}
