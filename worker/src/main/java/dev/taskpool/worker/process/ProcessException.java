package dev.taskpool.worker.process;

import dev.taskpool.core.TaskpoolException;

/** A process name that resolves to nothing, or a process called with arguments it cannot take. */
public class ProcessException extends TaskpoolException {
    public ProcessException(String message) {
        super(message);
    }
}
