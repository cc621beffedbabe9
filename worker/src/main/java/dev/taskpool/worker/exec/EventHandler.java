package dev.taskpool.worker.exec;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.worker.runtime.AppRuntime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a task's {@code success}/{@code error} handler the same way wherever the end of the task
 * was seen (a run that ended here, or the recoverer finding a dead run out of runs): off the
 * caller's thread, on a thread of its own under the task's {@code timeout}, stopped past it the
 * way a run's attempt is ({@link AttemptStop}) and abandoned when it ignores its interrupt. A
 * handler's failure is logged, never thrown.
 */
final class EventHandler {
    private static final Logger log = LoggerFactory.getLogger(EventHandler.class);

    private EventHandler() {
    }

    /**
     * Starts {@code handler} for {@code event} of task {@code #id} and returns at once; {@code then}
     * runs once the handler is over (finished, failed, stopped or abandoned), or at once when it
     * cannot start because the worker is stopping.
     */
    static void start(WorkerContext worker, AppRuntime runtime, TaskDefinition definition, String event, String handler,
                      long id, List<Object> args, Runnable then) {
        String what = "task " + definition.id() + " #" + id + ": event." + event + " handler " + handler;
        try {
            worker.processors().execute(() -> {
                try {
                    runStoppable(worker, runtime, definition, what, () -> runtime.runEvent(definition, event, handler, id, args));
                } catch (RuntimeException e) {
                    log.error("{} failed: {}", what, e.getMessage());
                } finally {
                    then.run();
                }
            });
        } catch (RejectedExecutionException e) {
            log.error("{} not run: the worker is stopping", what);
            then.run();
        }
    }

    /**
     * Runs {@code handler} on a thread of its own and waits for it at most the task's timeout;
     * past it, the handler is stopped and, if it still runs after {@code --abandon-after}, abandoned.
     * Throws what the handler threw.
     */
    private static void runStoppable(WorkerContext worker, AppRuntime runtime, TaskDefinition definition, String what,
                                     Runnable handler) {
        AttemptStop attempt = AttemptStop.notStarted();
        Future<?> call = worker.processors().submit(() -> {
            if (!attempt.enter()) {
                throw new TaskpoolException(what + " was stopped before it started");
            }
            try {
                handler.run();
            } finally {
                attempt.leave();
                Thread.interrupted();   // an interrupt aimed at this call must not reach the next one
            }
        });
        try {
            try {
                call.get(definition.timeout().toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException timedOut) {
                if (attempt.claim(AttemptStop.Claim.TIMED_OUT)) {
                    AttemptStop.Outcome outcome = attempt.stop(runtime.scripts(), worker.settings().abandonAfter(), what);
                    if (outcome == AttemptStop.Outcome.ABANDONED) {
                        log.error("{} ignored its interrupt for {}; abandoning its thread {} (it keeps running until it returns)",
                                what, Durations.text(worker.settings().abandonAfter()), attempt.threadName());
                        throw new TaskpoolException(what + " did not stop when interrupted and was abandoned");
                    }
                    if (outcome == AttemptStop.Outcome.INTERRUPTED) {
                        throw new InterruptedException();
                    }
                }
                call.get();   // it has left: its end (mostly the interrupt's error) is at hand
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtimeError) {
                throw runtimeError;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new TaskpoolException(what + " failed: " + cause, cause);
        } catch (InterruptedException e) {
            // The worker is stopping: the handler is interrupted, and no one waits for it any more.
            Thread.currentThread().interrupt();
            if (attempt.claim(AttemptStop.Claim.ORDERED)) {
                attempt.stop(runtime.scripts(), Duration.ZERO, what);
            }
            throw new TaskpoolException(what + ": interrupted while waiting for it", e);
        }
    }
}
