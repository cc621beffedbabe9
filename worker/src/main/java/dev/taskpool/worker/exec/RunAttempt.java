package dev.taskpool.worker.exec;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One run of the processor on one thread, with its deadline. Its stop is claimed once, by the
 * deadline check (a timeout) or by a stop order, and carried out by {@code TaskRun.stopAttempt}; the
 * attempt's end claims it too, so a timeout either wins before the end or not at all.
 */
final class RunAttempt {
    static final int NOT_STOPPED = 0;
    static final int TIMED_OUT = 1;
    static final int ORDERED = 2;
    static final int ENDED = 3;
    private static final AtomicIntegerFieldUpdater<RunAttempt> STOP =
            AtomicIntegerFieldUpdater.newUpdater(RunAttempt.class, "stop");

    final Thread thread;
    final long deadlineNanos;
    private volatile int stop = NOT_STOPPED;
    /**
     * Guarded by this attempt's monitor, and only set when a stop was claimed before the end
     * (no stopper looks at it otherwise): its thread has left the attempt.
     */
    boolean over;
    /** Guarded by this attempt's monitor: another thread carries the run on. */
    boolean abandoned;

    RunAttempt(Thread thread, long deadlineNanos) {
        this.thread = thread;
        this.deadlineNanos = deadlineNanos;
    }

    boolean isDue(long nowNanos) {
        return stop == NOT_STOPPED && nowNanos - deadlineNanos >= 0;
    }

    /** Claims the attempt's one stop (or its end); false when something claimed it first. */
    boolean claim(int how) {
        return STOP.compareAndSet(this, NOT_STOPPED, how);
    }

    boolean timedOut() {
        return stop == TIMED_OUT;
    }
}
