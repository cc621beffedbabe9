package dev.taskpool.worker.exec;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.FetchedTask;
import dev.taskpool.core.redis.TaskStore;
import dev.taskpool.core.redis.TransitionResult;
import java.util.concurrent.CompletableFuture;
import dev.taskpool.worker.runtime.AppRuntime;
import dev.taskpool.worker.runtime.CurrentRun;
import dev.taskpool.worker.script.ScriptError;
import io.github.resilience4j.retry.Retry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fetched task, from its first run to SUCCESS or FAILURE: runs the processor with
 * Resilience4j retrying per {@code attempts}/{@code attempt_after}, stops each run at
 * {@code timeout} (interrupting the script, not just giving up on it), records every transition
 * through the lease-guarded scripts and runs the {@code success}/{@code error} events.
 */
final class TaskRun implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TaskRun.class);

    enum StopReason { TIMEOUT, LEASE_LOST, SHUTDOWN }

    private final TaskDefinition definition;
    private final AppRuntime runtime;
    private final WorkerContext worker;
    private final TaskConsumer consumer;
    private final Runnable onEnd;
    private final java.util.concurrent.atomic.AtomicBoolean slotHeld = new java.util.concurrent.atomic.AtomicBoolean(true);

    private volatile FetchedTask current;
    private volatile StopReason stopReason;
    private volatile Execution execution;
    private String lastError;

    TaskRun(FetchedTask fetched, TaskDefinition definition, AppRuntime runtime, WorkerContext worker, TaskConsumer consumer,
            Runnable onEnd) {
        this.current = fetched;
        this.definition = definition;
        this.runtime = runtime;
        this.worker = worker;
        this.consumer = consumer;
        this.onEnd = onEnd;
    }

    /** The run's current lease (its token changes with each retry). */
    FetchedTask lease() {
        return current;
    }

    long id() {
        return current.id();
    }

    @Override
    public void run() {
        try {
            List<Object> args = parseArgs();
            Object response = runWithRetries(args);
            finish(TaskStatus.SUCCESS, response, null);
        } catch (RuntimeException e) {
            StopReason reason = stopReason;
            if (reason == StopReason.SHUTDOWN) {
                handBack();
            } else if (reason == StopReason.LEASE_LOST || e instanceof RunStoppedException) {
                log.warn("task {} #{}: stopped ({}); the task is not this worker's any more", definition.id(), id(),
                        e.getMessage());
            } else {
                finish(TaskStatus.FAILURE, null, messageOf(e));
            }
        } finally {
            releaseSlot();
            onEnd.run();
        }
    }

    /** Gives the run's slot back, once: when its completion goes to the pump, or when it ends. */
    private void releaseSlot() {
        if (slotHeld.compareAndSet(true, false)) {
            consumer.releaseSlot();
        }
    }

    private Object runWithRetries(List<Object> args) {
        int runsLeft = Math.max(1, definition.maxRuns() - current.attempt() + 1);
        Retry retry = consumer.retry(runsLeft, TaskRun::retryable);
        AtomicInteger invocations = new AtomicInteger();
        return Retry.decorateSupplier(retry, () -> {
            if (invocations.getAndIncrement() > 0) {
                startNextRun();
            }
            return runOnce(args);
        }).get();
    }

    /** A failed run is retried unless it was stopped from outside (lost lease, shutdown). */
    private static boolean retryable(Throwable error) {
        return !(error instanceof RunStoppedException);
    }

    /** Runs the processor once on a processor thread, stopped at the task's timeout. */
    private Object runOnce(List<Object> args) {
        if (stopReason != null) {
            throw new RunStoppedException("run stopped: " + stopReason);
        }
        List<Object> callArgs = new ArrayList<>(args.size() + 1);
        callArgs.add(id());
        callArgs.addAll(args);
        Execution attempt = new Execution();
        execution = attempt;
        ScheduledFuture<?> timer = worker.timers().schedule(() -> stop(StopReason.TIMEOUT),
                definition.timeout().toMillis(), TimeUnit.MILLISECONDS);
        String what = "task " + definition.id() + " #" + id() + " run " + current.attempt();
        try {
            Object result = attempt.run(worker.processors(), runtime.scripts(),
                    definition.timeout().plus(WorkerContext.STOP_WAIT), worker.settings().abandonAfter(), what, () -> {
                        try (CurrentRun.Scope ignored = CurrentRun.enter(definition.id(), id())) {
                            return runtime.call(definition.process(), callArgs);
                        }
                    });
            if (stopReason != null) {
                // The processor swallowed its interrupt and returned: the run still ended by the stop.
                throw new RunStoppedException("run stopped: " + stopReason);
            }
            return result;
        } catch (RuntimeException e) {
            StopReason reason = stopReason;
            if (reason == StopReason.TIMEOUT || (reason == null && e instanceof Execution.AbandonedException)) {
                stopReason = null;
                lastError = "timeout: run " + current.attempt() + " took longer than " + definition.timeout().toSeconds()
                        + "s and was stopped" + (e instanceof Execution.AbandonedException
                        ? " (the processor ignored its interrupt; its thread was abandoned)" : "");
                throw new TaskpoolException(lastError, e);
            }
            if (reason != null) {
                throw new RunStoppedException("run stopped: " + reason);
            }
            lastError = messageOf(e);
            throw e;
        } finally {
            timer.cancel(false);
            execution = null;
        }
    }

    /** Stops the current run from another thread; between runs, the next one does not start. */
    void stop(StopReason reason) {
        synchronized (this) {
            if (stopReason != null) {
                return;
            }
            Execution running = execution;
            if (reason == StopReason.TIMEOUT && running == null) {
                return;   // the run already ended
            }
            stopReason = reason;
            if (running != null && !running.stop() && reason == StopReason.TIMEOUT) {
                stopReason = null;   // it ended on its own just now
            }
        }
    }

    private void startNextRun() {
        FetchedTask failed = current;
        FetchedTask next = new FetchedTask(failed.task(), failed.id(), failed.attempt() + 1, failed.args(),
                worker.settings().workerId() + "/" + (failed.attempt() + 1));
        TransitionResult result = persist("record a retry", () -> {
            long now = runtime.clock().millis();
            var message = TaskEvent.message(TaskEvent.RETRY, definition.id(), id(), TaskStatus.RUNNING, now);
            message.put("attempt", next.attempt());
            message.put("error", lastError);
            return runtime.store().retry(failed, next, String.valueOf(lastError), now,
                    now + worker.settings().lease().toMillis(), message.toString());
        });
        if (result != TransitionResult.DONE) {
            stopReason = StopReason.LEASE_LOST;
            throw new RunStoppedException("cannot start run " + next.attempt() + ": " + result);
        }
        current = next;
        log.info("task {} #{}: run {} failed ({}), starting run {}", definition.id(), id(), failed.attempt(), lastError,
                next.attempt());
    }

    private void finish(TaskStatus status, Object response, String error) {
        String payload;
        if (status == TaskStatus.SUCCESS) {
            try {
                payload = Json.write(response);
            } catch (RuntimeException e) {
                finish(TaskStatus.FAILURE, null, "the processor's result cannot be stored as JSON: " + e.getMessage());
                return;
            }
        } else {
            payload = error;
        }
        TaskStore.Completion completion = new TaskStore.Completion(current, status, payload);
        // The pump records it in its next round trip (batched with other runs' ends); the slot is
        // free from here on. Should that round trip fail, the completion is sent on its own.
        CompletableFuture<TransitionResult> batched = consumer.submit(completion);
        releaseSlot();
        TransitionResult result;
        try {
            result = runtime.store().await(batched, "complete task " + definition.id() + " #" + id());
        } catch (RuntimeException first) {
            try {
                result = persist("complete", () -> runtime.store().complete(current, status, payload,
                        runtime.clock().millis(), definition.keep()));
            } catch (RuntimeException e) {
                log.error("task {} #{}: could not record {}: {}; once its lease expires it runs again", definition.id(), id(),
                        status, e.getMessage());
                return;
            }
        }
        if (result != TransitionResult.DONE) {
            log.warn("task {} #{}: finished as {} but not recorded: {}", definition.id(), id(), status, result);
            return;
        }
        if (status == TaskStatus.SUCCESS) {
            log.debug("task {} #{}: SUCCESS after {} run(s)", definition.id(), id(), current.attempt());
            runHandler("success", definition.events().success(), Arrays.asList(id(), response));
        } else {
            log.warn("task {} #{}: FAILURE after {} run(s): {}", definition.id(), id(), current.attempt(), error);
            runHandler("error", definition.events().error(), Arrays.asList(id(), new ScriptError(error)));
        }
    }

    /** Runs a success/error handler under the task's timeout; its failures are logged, never thrown. */
    private void runHandler(String event, String handler, List<Object> args) {
        if (handler == null) {
            return;
        }
        String what = "task " + definition.id() + " #" + id() + ": event." + event + " handler " + handler;
        try {
            new Execution().run(worker.processors(), runtime.scripts(), definition.timeout(), worker.settings().abandonAfter(),
                    what, () -> {
                        runtime.runEvent(definition, event, handler, id(), args);
                        return null;
                    });
        } catch (RuntimeException e) {
            log.error("{} failed: {}", what, e.getMessage());
        }
    }

    /**
     * Records a transition, trying again while Redis is unreachable (a restart, a failover) for
     * up to one lease period; past that the lease has lapsed and the recoverer takes over.
     */
    private TransitionResult persist(String what, Supplier<java.util.concurrent.CompletableFuture<TransitionResult>> write) {
        long deadline = System.nanoTime() + worker.settings().lease().toNanos();
        long backoff = 100;
        while (true) {
            try {
                return runtime.store().await(write.get(), what + " task " + definition.id() + " #" + id());
            } catch (TaskpoolException e) {
                if (System.nanoTime() + backoff * 1_000_000 > deadline || Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                log.warn("task {} #{}: cannot {} yet ({}); trying again", definition.id(), id(), what, e.getMessage());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoff = Math.min(backoff * 2, 2000);
            }
        }
    }

    private void handBack() {
        try {
            TransitionResult result = runtime.store().await(runtime.store().release(current, runtime.clock().millis()),
                    "hand task " + definition.id() + " #" + id() + " back");
            log.info("task {} #{}: handed back to the queue ({})", definition.id(), id(), result);
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not hand it back ({}); the recoverer will", definition.id(), id(), e.getMessage());
        }
    }

    private List<Object> parseArgs() {
        return Json.readArgs(current.args(), "task " + definition.id() + " #" + id() + ": field 'args'");
    }

    private static String messageOf(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
