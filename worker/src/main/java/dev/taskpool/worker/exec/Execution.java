package dev.taskpool.worker.exec;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.worker.script.ScriptEngine;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call (an event handler) on a thread of its own, which another thread can stop: the thread is interrupted (waking a {@code utils.time.Sleep}) and its script context is
 * interrupted at the next safepoint. Code that ignores both is abandoned: the caller stops
 * waiting, the thread is reported and left to finish on its own, and the caller's slot is free.
 */
final class Execution {
    private static final Logger log = LoggerFactory.getLogger(Execution.class);

    /** The call was abandoned: it did not stop when asked to. */
    static final class AbandonedException extends TaskpoolException {
        AbandonedException(String message) {
            super(message);
        }
    }

    private final Object lock = new Object();
    private Thread thread;
    private ScriptEngine scripts;
    private boolean active;
    private boolean stopped;

    /**
     * Runs {@code work} on a thread of {@code pool} with a context of {@code scripts}, waiting at
     * most {@code waitLimit}; past it, the call is stopped and, if it still runs, abandoned.
     */
    <T> T run(ExecutorService pool, ScriptEngine scripts, Duration waitLimit, Duration abandonAfter, String what,
              Supplier<T> work) {
        Future<T> future = pool.submit(() -> {
            synchronized (lock) {
                thread = Thread.currentThread();
                this.scripts = scripts;
                active = !stopped;
            }
            try {
                if (!active) {
                    throw new TaskpoolException(what + " was stopped before it started");
                }
                return work.get();
            } finally {
                synchronized (lock) {
                    active = false;
                }
                Thread.interrupted();   // an interrupt aimed at this call must not reach the next one
            }
        });
        try {
            try {
                return future.get(waitLimit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException first) {
                stop();
                return future.get(abandonAfter.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (TimeoutException e) {
            log.error("{} ignored its interrupt for {}; abandoning its thread {} (it keeps running until it returns)",
                    what, Durations.text(abandonAfter), threadName());
            throw new AbandonedException(what + " did not stop when interrupted and was abandoned");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new TaskpoolException(what + " failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
            throw new TaskpoolException(what + ": interrupted while waiting for it", e);
        }
    }

    /** Stops the call if it is running; returns whether it was. Safe from any thread, any time. */
    boolean stop() {
        synchronized (lock) {
            stopped = true;
            if (!active) {
                return false;
            }
            thread.interrupt();
            if (!scripts.interrupt(thread, Timeouts.INTERRUPT_LIMIT)) {
                log.error("a script on thread {} did not stop within {} s of its interrupt; its context was closed",
                        thread.getName(), Timeouts.INTERRUPT_LIMIT.toSeconds());
            }
            return true;
        }
    }

    private String threadName() {
        synchronized (lock) {
            return thread == null ? "?" : thread.getName();
        }
    }
}
