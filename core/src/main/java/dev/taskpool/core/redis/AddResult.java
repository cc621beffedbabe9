package dev.taskpool.core.redis;

/**
 * What an add did: the new task's id, or {@code 0} when the queue was full and nothing was written.
 *
 * @param duplicate true when the add named a unique key (or its kind is unique by arguments) that a
 *                  task still holds: nothing was added, and {@code id} is that task's
 */
public record AddResult(String task, long id, boolean duplicate) {
    /** A new task's id (or 0: the queue was full). */
    public AddResult(String task, long id) {
        this(task, id, false);
    }

    public boolean isQueueFull() {
        return id == 0;
    }

    /**
     * The result of an add whose reply is {@code id}: the enqueue pipeline carries a duplicate's id
     * negated (see {@code EnqueueReply}), so that a batch's ids stay one list of numbers.
     */
    public static AddResult ofReplyId(String task, long id) {
        return new AddResult(task, Math.abs(id), id < 0);
    }
}
