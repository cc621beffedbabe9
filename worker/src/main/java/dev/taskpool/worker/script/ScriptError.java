package dev.taskpool.worker.script;

/**
 * An error handed to an event handler ({@code event.error}): scripts receive it as a JavaScript
 * {@code Error}, so both {@code `${err}`} and {@code err.message} work.
 */
public record ScriptError(String message) {
    @Override
    public String toString() {
        return "Error: " + message;
    }
}
