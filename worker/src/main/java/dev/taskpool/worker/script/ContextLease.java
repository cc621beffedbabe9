package dev.taskpool.worker.script;

import java.time.Duration;

/**
 * One thread's use of a pooled context, from its borrow to its give-back: what an interrupt aims
 * at (a run's timeout, a stop order). Ending the lease and interrupting through it take its
 * monitor, so an interrupt either lands while the thread still holds the context (which is then
 * never reused) or finds the lease ended and does nothing: it can never reach the run that
 * borrowed the same context next.
 */
final class ContextLease {
    private final JsContext context;
    private boolean ended;

    ContextLease(JsContext context) {
        this.context = context;
    }

    /** The thread gives the context back: waits for an interrupt in progress, then lets none through. */
    synchronized void end() {
        ended = true;
    }

    /**
     * Stops what runs in the context, unless the lease has ended; returns false when the script
     * did not stop within {@code limit} (the context is then closed).
     */
    synchronized boolean interrupt(Duration limit) {
        if (ended) {
            return true;   // the context went back to the pool: what it runs now is another run's
        }
        context.markBroken();   // its script state may be half-updated: never reuse it
        return context.interrupt(limit);
    }
}
