package dev.taskpool.core;

/**
 * A task ended in FAILURE where its response was asked for (a typed {@code await}, or
 * {@code TaskInfo.response(type)}): it has none, and this carries what it has instead, the error of
 * its last run (an operator's cancel is one: "canceled", or "canceled by NAME").
 */
public class TaskFailedException extends TaskpoolException {
    private final String task;
    private final long id;
    private final String error;
    private final int attempt;

    /**
     * @param error   the task's error as stored, null when none was (a hash edited by hand)
     * @param attempt the runs that counted against its attempts
     */
    public TaskFailedException(String task, long id, String error, int attempt) {
        super("task " + task + " #" + id + " failed" + (attempt > 0 ? " after " + attempt + (attempt == 1 ? " run" : " runs") : "")
                + ": " + (error == null || error.isEmpty() ? "no error was recorded" : error));
        this.task = task;
        this.id = id;
        this.error = error;
        this.attempt = attempt;
    }

    public String task() {
        return task;
    }

    public long id() {
        return id;
    }

    /** The error of the task's last run, as its processor or the canceling operator gave it; null when none was recorded. */
    public String error() {
        return error;
    }

    /** The runs that counted against the task's attempts. */
    public int attempt() {
        return attempt;
    }
}
