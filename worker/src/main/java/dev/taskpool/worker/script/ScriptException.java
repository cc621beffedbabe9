package dev.taskpool.worker.script;

import dev.taskpool.core.TaskpoolException;

/** A script failed: a syntax error at load, an exception it threw, or a missing function. */
public class ScriptException extends TaskpoolException {
    public ScriptException(String message) {
        super(message);
    }

    public ScriptException(String message, Throwable cause) {
        super(message, cause);
    }
}
