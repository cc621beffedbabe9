package dev.taskpool.core;

/** The root of every error taskpool raises on purpose; its message names what was wrong. */
public class TaskpoolException extends RuntimeException {
    public TaskpoolException(String message) {
        super(message);
    }

    public TaskpoolException(String message, Throwable cause) {
        super(message, cause);
    }
}
