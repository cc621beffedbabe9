package dev.taskpool.worker.exec;

/**
 * A lasting order to stop a whole run ({@link TaskRun#stop}), as opposed to a timeout, which fails
 * one attempt only. The first order given stays; each says why, for the log and the run's error.
 */
enum StopOrder {
    /** The worker is stopping: the run hands its task back to the queue, and the interrupted run does not count. */
    SHUTDOWN("the worker is stopping"),
    /** Another worker recovered the task: the run records nothing. */
    LEASE_LOST("its lease was lost: the task is another run's now"),
    /** An operator canceled the task: the cancel script recorded it and took the lease; the run records nothing. */
    CANCELED("an operator canceled the task: it is FAILURE already");

    final String why;

    StopOrder(String why) {
        this.why = why;
    }
}
