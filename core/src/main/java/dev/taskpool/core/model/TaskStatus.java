package dev.taskpool.core.model;

/** The four states of a task, as the seed names them. */
public enum TaskStatus {
    WAITING, RUNNING, SUCCESS, FAILURE;

    public boolean isFinished() {
        return this == SUCCESS || this == FAILURE;
    }
}
