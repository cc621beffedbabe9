package dev.taskpool.core.run;

import dev.taskpool.core.TaskpoolException;

/** A run tried to change a task whose lease it no longer holds; nothing was written. */
public final class LeaseLostException extends TaskpoolException {
    public LeaseLostException(String message) {
        super(message);
    }
}
