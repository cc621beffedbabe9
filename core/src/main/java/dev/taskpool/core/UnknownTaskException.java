package dev.taskpool.core;

/** A task id that no runtime has published, or a task record that does not exist. */
public class UnknownTaskException extends TaskpoolException {
    public UnknownTaskException(String message) {
        super(message);
    }
}
