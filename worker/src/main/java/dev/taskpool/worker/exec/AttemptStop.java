package dev.taskpool.worker.exec;

import dev.taskpool.worker.script.ScriptEngine;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way this worker stops a call running on another thread: a run's attempt of its processor
 * ({@link TaskRun}) or a {@code success}/{@code error} handler ({@link EventHandler}). Whatever the
 * cause (the task's timeout, an operator's cancel, a lost lease, a stopping worker), a stop goes
 * the same three steps:
 *
 * <ol>
 *   <li><b>Claim.</b> The attempt ends once: the first claim wins, whether a stop's
 *       ({@link Claim#TIMED_OUT}, {@link Claim#ORDERED}) or the attempt's own end ({@link #leave}).
 *       A timeout either wins before the end or not at all, and the usual end, claimed before any
 *       stop, costs one compare-and-set: no stopper exists then, or ever will.</li>
 *   <li><b>Interrupt</b> ({@link #stop}): the thread (waking a {@code utils.time.Sleep}) and its
 *       script context, which gets {@link Timeouts#INTERRUPT_LIMIT} to notice before it is closed. The
 *       attempt's monitor is held meanwhile, so its thread cannot leave the attempt (and start other
 *       work the interrupt was not meant for) in the middle.</li>
 *   <li><b>Abandon</b> a call that ignores both for {@code --abandon-after}: it is marked so, the
 *       stopper carries on without it, and should its thread ever return, {@link #leave} tells it
 *       to touch nothing.</li>
 * </ol>
 */
final class AttemptStop {
    private static final Logger log = LoggerFactory.getLogger(AttemptStop.class);

    /** How the attempt ended; the first claim stays. */
    enum Claim { OPEN, TIMED_OUT, ORDERED, ENDED }

    /** What a stop came to. */
    enum Outcome {
        /** The call left (or never started): whoever waits for it gets its end. */
        ENDED,
        /** The call ignored its interrupt for {@code --abandon-after}: its thread is left to itself. */
        ABANDONED,
        /** The stopper itself was interrupted (the worker's threads are being shut down): nothing more is done. */
        INTERRUPTED
    }

    /** Thrown in a stuck thread that comes back after its attempt was abandoned: another thread carries its work on. */
    static final class TakenOverException extends RuntimeException {
        TakenOverException() {
            super("the run was taken over after its attempt was abandoned", null, false, false);
        }
    }

    private final long deadlineNanos;
    private final AtomicReference<Claim> claim = new AtomicReference<>(Claim.OPEN);
    /** Guarded by this attempt's monitor: the call's thread, once it entered. */
    private Thread thread;
    /**
     * Guarded by this attempt's monitor, and only set when a stop was claimed before the end
     * (no stopper looks at it otherwise): the thread has left the attempt.
     */
    private boolean over;
    /** Guarded by this attempt's monitor: the stopper gave up on the call; another thread carries on. */
    private boolean abandoned;

    private AttemptStop(Thread thread, long deadlineNanos) {
        this.thread = thread;
        this.deadlineNanos = deadlineNanos;
    }

    /** An attempt on the calling thread, due at {@code deadlineNanos} ({@link System#nanoTime}). */
    static AttemptStop onThisThread(long deadlineNanos) {
        return new AttemptStop(Thread.currentThread(), deadlineNanos);
    }

    /** An attempt whose thread is not known yet (it {@link #enter}s), timed by whoever waits for it. */
    static AttemptStop notStarted() {
        return new AttemptStop(null, Long.MAX_VALUE);
    }

    /** The calling thread takes up the attempt; false when a stop was claimed before it started. */
    synchronized boolean enter() {
        if (claim.get() != Claim.OPEN) {
            return false;
        }
        thread = Thread.currentThread();
        return true;
    }

    /** Whether the attempt is past its deadline and nothing claimed it yet. */
    boolean isDue(long nowNanos) {
        return claim.get() == Claim.OPEN && nowNanos - deadlineNanos >= 0;
    }

    /** Claims the attempt's one stop; false when something (its end included) claimed it first. */
    boolean claim(Claim how) {
        return claim.compareAndSet(Claim.OPEN, how);
    }

    boolean timedOut() {
        return claim.get() == Claim.TIMED_OUT;
    }

    /**
     * The attempt's thread leaves it. Returns false when the attempt was abandoned: another thread
     * carries its work on, and this one must touch nothing. Waits for an interrupt in progress (it
     * must land inside the attempt).
     */
    boolean leave() {
        if (claim.compareAndSet(Claim.OPEN, Claim.ENDED)) {
            return true;
        }
        synchronized (this) {
            over = true;
            notifyAll();   // the stopper, waiting to see whether to abandon it
            return !abandoned;
        }
    }

    /**
     * Interrupts the attempt's thread and its script, then waits up to {@code abandonAfter} (counted
     * from now) for it to leave; abandons it if it does not. Call after a successful {@link #claim};
     * {@code what} names the call in the log. No lock but the attempt's monitor is held.
     */
    Outcome stop(ScriptEngine scripts, Duration abandonAfter, String what) {
        long abandonAt = System.nanoTime() + abandonAfter.toNanos();
        synchronized (this) {
            if (over || thread == null) {
                return Outcome.ENDED;   // (not started: it will refuse to enter)
            }
            thread.interrupt();
            if (!scripts.interrupt(thread, Timeouts.INTERRUPT_LIMIT)) {
                log.error("{}: the script did not stop within {} s of its interrupt; its context was closed", what,
                        Timeouts.INTERRUPT_LIMIT.toSeconds());
            }
            try {
                for (long left = abandonAt - System.nanoTime(); !over && left > 0; left = abandonAt - System.nanoTime()) {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException e) {
                return Outcome.INTERRUPTED;
            }
            if (over) {
                return Outcome.ENDED;
            }
            abandoned = true;
            return Outcome.ABANDONED;
        }
    }

    /** The name of the attempt's thread, for the log. */
    synchronized String threadName() {
        return thread == null ? "?" : thread.getName();
    }
}
