package dev.taskpool.worker.script;

import dev.taskpool.core.TaskpoolException;
import java.util.Optional;

/** A script failed: a syntax error at load, an exception it threw, or a missing function. */
public class ScriptException extends TaskpoolException {
    private final String location;

    public ScriptException(String message) {
        this(message, null, null);
    }

    public ScriptException(String message, Throwable cause) {
        this(message, null, cause);
    }

    public ScriptException(String message, String location, Throwable cause) {
        super(message, cause);
        this.location = location;
    }

    /** Where in the app's scripts it was thrown, e.g. {@code scripts/mail.js:12}, when known. */
    public Optional<String> location() {
        return Optional.ofNullable(location);
    }
}
