package dev.taskpool.core.ops;

import dev.taskpool.core.TaskpoolException;

/**
 * An operator's action (retry, cancel, pause, resume, delete) that was refused; nothing was changed.
 * The message names the task, the id (when there is one) and why, e.g.
 * "task example 7 is SUCCESS: only a FAILURE task can be retried".
 */
public class ControlException extends TaskpoolException {
    public ControlException(String message) {
        super(message);
    }
}
