package dev.taskpool.worker.script;

/** A script stopped because its run was interrupted (timeout, lost lease, shutdown). */
public class ScriptInterruptedException extends ScriptException {
    public ScriptInterruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
