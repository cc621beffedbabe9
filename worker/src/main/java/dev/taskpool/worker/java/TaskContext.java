package dev.taskpool.worker.java;

/**
 * What a Java processor may know and do about the run it is in: a parameter of this type on a
 * {@link dev.taskpool.spring.TaskProcessor} method (or the second argument of a
 * {@link JavaProcessor}) is given the run's context, and takes none of the task's arguments.
 */
public interface TaskContext {
    /** The kind, e.g. {@code mail.send}. */
    String task();

    /** The task's id. */
    long id();

    /** Which run of the task this is: 1 for the first, 2 for the first retry... */
    int attempt();

    /** The most runs the task gets (the definition's {@code attempts} + 1). */
    int maxRuns();

    /** Whether this is the task's last run: a failure now ends it in FAILURE. */
    default boolean lastAttempt() {
        return attempt() >= maxRuns();
    }

    /**
     * Records progress in the task's hash and publishes it ({@code Progress(id, current, total,
     * message)} of a script); recorded only while this run still holds the task.
     */
    void progress(long current, long total, String message);
}
