package dev.taskpool.worker.exec;

import dev.taskpool.core.TaskpoolException;

/** A run was stopped from outside (lost lease or shutdown): it neither succeeds nor fails here. */
final class RunStoppedException extends TaskpoolException {
    RunStoppedException(String message) {
        super(message);
    }
}
