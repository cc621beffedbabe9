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
    /** The processor call in progress, read without a lock by the timeout check. */
    private volatile Attempt attempt;
    /** Set once the run is over for this worker (recorded, handed back or given up): see {@link #end()}. */
    private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean resultRecorded;
    /** Set when the result goes to the pump: a heartbeat that finds the lease spent is then no news. */
    private volatile boolean finishing;
    private static final java.time.Duration INTERRUPT_LIMIT = java.time.Duration.ofSeconds(2);
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

    /** True once the result is on its way to Redis (its lease may be spent any moment). */
    boolean isFinishing() {
        return finishing;
    }

    /** False once the result is in Redis (the lease is spent; a handler may still be running). */
    boolean holdsLease() {
        return !resultRecorded;
    }

    long id() {
        return current.id();
    }

    @Override
    public void run() {
        execute(false);
    }

    /**
     * The run from its first (or, after an abandoned run, its next) attempt to its end. Exactly
     * one thread executes this at a time: when a run is abandoned, a new thread takes over and
     * the stuck one, should it ever return, leaves without touching anything.
     */
    private void execute(boolean afterAbandonedRun) {
        boolean tookOver = false;
        boolean recording = false;
        try {
            List<Object> args = parseArgs();
            Object response = runWithRetries(args, afterAbandonedRun);
            recording = finish(TaskStatus.SUCCESS, response, null);
        } catch (TakenOverException e) {
            tookOver = true;   // another thread carries this run on
        } catch (RuntimeException e) {
            StopReason reason = stopReason;
            if (reason == StopReason.SHUTDOWN) {
                handBack();
            } else if (reason == StopReason.LEASE_LOST || e instanceof RunStoppedException) {
                log.warn("task {} #{}: stopped ({}); the task is not this worker's any more", definition.id(), id(),
                        e.getMessage());
            } else {
                recording = finish(TaskStatus.FAILURE, null, messageOf(e));
            }
        } finally {
            if (!tookOver) {
                releaseSlot();
                if (!recording) {
                    end();
                }
            }
        }
    }

    /**
     * The run is over for this worker: it leaves the running set (and so the heartbeat). A run
     * whose completion is being recorded stays in it until Redis has the result, so that its lease
     * is kept alive through a Redis outage.
     */
    private void end() {
        if (ended.compareAndSet(false, true)) {
            onEnd.run();
        }
    }
    /** Gives the run's slot back, once: when its completion goes to the pump, or when it ends. */
    private void releaseSlot() {
        if (slotHeld.compareAndSet(true, false)) {
            consumer.releaseSlot();
        }
    }

    private Object runWithRetries(List<Object> args, boolean afterAbandonedRun) {
        int runsLeft = definition.maxRuns() - current.attempt() + (afterAbandonedRun ? 0 : 1);
        if (runsLeft < 1) {
            throw new TaskpoolException(lastError);
        }
        Retry retry = consumer.retry(runsLeft, TaskRun::retryable);
        AtomicInteger invocations = new AtomicInteger(afterAbandonedRun ? 1 : 0);
        return Retry.decorateSupplier(retry, () -> {
            if (invocations.getAndIncrement() > 0) {
                startNextRun();
            }
            return runOnce(args);
        }).get();
    }
    /** A failed run is retried unless it was stopped from outside (lost lease, shutdown) or taken over. */
    private static boolean retryable(Throwable error) {
        return !(error instanceof RunStoppedException) && !(error instanceof TakenOverException);
    }

    /** Runs the processor once on a processor thread, stopped at the task's timeout. */
    private Object runOnce(List<Object> args) {
        if (stopReason != null) {
            throw new RunStoppedException("run stopped: " + stopReason);
        }
        List<Object> callArgs = new ArrayList<>(args.size() + 1);
        callArgs.add(id());
        callArgs.addAll(args);
        // The processor runs on this (virtual) thread; the worker's timeout check stops it at its deadline.
        Attempt attempt = new Attempt(Thread.currentThread(), System.nanoTime() + definition.timeout().toNanos());
        synchronized (this) {
            this.attempt = attempt;
        }
        try (CurrentRun.Scope ignored = CurrentRun.enter(definition.id(), id(), current.token())) {
            Object result = runtime.call(definition.process(), callArgs);
            endAttempt(attempt);
            if (stopReason != null) {
                // The processor swallowed its interrupt and returned: the run still ended by the stop.
                throw new RunStoppedException("run stopped: " + stopReason);
            }
            return result;
        } catch (TakenOverException e) {
            throw e;
        } catch (RuntimeException e) {
            endAttempt(attempt);
            StopReason reason = stopReason;
            if (reason == StopReason.TIMEOUT) {
                stopReason = null;
                lastError = timeoutMessage(false);
                throw new TaskpoolException(lastError, e);
            }
            if (reason != null) {
                throw new RunStoppedException("run stopped: " + reason);
            }
            lastError = messageOf(e);
            throw e;
        } finally {
            Thread.interrupted();   // an interrupt aimed at this attempt must not reach the next one
        }
    }

    /** Called by the worker's timeout check every few milliseconds: stops an attempt past its deadline. */
    void checkTimeout(long nowNanos) {
        Attempt running = attempt;
        if (running != null && !running.done && nowNanos - running.deadlineNanos >= 0) {
            onTimeout(running);
        }
    }

    /** The processor call of one attempt, and the thread running it. */
    private static final class Attempt {
        final Thread thread;
        final long deadlineNanos;
        volatile boolean done;
        boolean abandoned;

        Attempt(Thread thread, long deadlineNanos) {
            this.thread = thread;
            this.deadlineNanos = deadlineNanos;
        }
    }

    /** Thrown in a stuck thread that comes back after its run was taken over by another thread. */
    private static final class TakenOverException extends RuntimeException {
        TakenOverException() {
            super("the run was taken over after it was abandoned", null, false, false);
        }
    }

    /** Marks the attempt over; in a thread whose run was abandoned, leaves at once. */
    private void endAttempt(Attempt ended) {
        synchronized (this) {
            ended.done = true;
            if (attempt == ended) {
                attempt = null;
            }
            if (ended.abandoned) {
                throw new TakenOverException();
            }
        }
    }

    private String timeoutMessage(boolean abandoned) {
        return "timeout: run " + current.attempt() + " took longer than " + definition.timeout().toSeconds()
                + "s and was stopped" + (abandoned ? " (the processor ignored its interrupt; its thread was abandoned)" : "");
    }

    /** At the timeout: stop the processor; if it ignores that too, abandon it after a while. */
    private void onTimeout(Attempt timedOut) {
        synchronized (this) {
            if (timedOut.done || stopReason != null) {
                return;
            }
            stopReason = StopReason.TIMEOUT;
            interrupt(timedOut);
        }
        worker.timers().schedule(() -> abandonIfStuck(timedOut), worker.settings().abandonAfter().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * The processor ignored its interrupt: leave its thread to itself, count the run as failed and
     * carry the task on (its next run, or its FAILURE) on a new thread, in the same slot.
     */
    private void abandonIfStuck(Attempt stuck) {
        synchronized (this) {
            if (stuck.done) {
                return;
            }
            stuck.abandoned = true;
            attempt = null;
            stopReason = null;
            lastError = timeoutMessage(true);
        }
        log.error("task {} #{}: run {} ignored its interrupt for {} s; abandoning its thread {} (it keeps running until"
                + " it returns)", definition.id(), id(), current.attempt(), worker.settings().abandonAfter().toSeconds(),
                stuck.thread.getName());
        Thread.ofVirtual().name("run-" + definition.id() + "-takeover").start(() -> execute(true));
    }

    private void interrupt(Attempt running) {
        running.thread.interrupt();
        if (!runtime.scripts().interrupt(running.thread, INTERRUPT_LIMIT)) {
            log.error("task {} #{}: the script did not stop within {} s of its interrupt; its context was closed",
                    definition.id(), id(), INTERRUPT_LIMIT.toSeconds());
        }
    }
    /** Stops the current run from another thread; between runs, the next one does not start. */
    void stop(StopReason reason) {
        synchronized (this) {
            if (stopReason != null) {
                return;
            }
            stopReason = reason;   // between runs, the next one does not start
            if (attempt != null && !attempt.done) {
                interrupt(attempt);
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

    /**
     * Hands the run's result to the pump, which records it in its next round trip (batched with
     * other runs' ends); the slot is free from here on. The rest (the success/error handler, or
     * recording it alone should that round trip fail) happens once Redis answered, off this
     * thread. Returns true when the result went to the pump (the run then ends from there).
     */
    private boolean finish(TaskStatus status, Object response, String error) {
        String payload;
        if (status == TaskStatus.SUCCESS) {
            try {
                payload = runtime.limits().resultJson(response);
            } catch (RuntimeException e) {
                return finish(TaskStatus.FAILURE, null, "the processor's result cannot be stored as JSON: " + e.getMessage());
            }
        } else {
            payload = error;
        }
        FetchedTask lease = current;
        TaskStore.Completion completion = new TaskStore.Completion(lease, status, payload);
        finishing = true;
        CompletableFuture<TransitionResult> batched = consumer.submit(completion);
        releaseSlot();
        batched.whenComplete((result, failure) -> {
            if (failure == null) {
                recorded(lease, status, response, error, result);
            } else {
                // Recording it alone retries with back-off: never on the thread that answered.
                Thread.ofVirtual().name("record-" + definition.id()).start(() -> recordAlone(lease, status, response, error, payload));
            }
        });
        return true;
    }

    private void recordAlone(FetchedTask lease, TaskStatus status, Object response, String error, String payload) {
        TransitionResult result;
        try {
            result = persist("complete", () -> runtime.store().complete(lease, status, payload,
                    runtime.clock().millis(), definition.keep()));
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not record {}: {}; once its lease expires it runs again", definition.id(), id(),
                    status, e.getMessage());
            end();
            return;
        }
        recorded(lease, status, response, error, result);
    }

    /**
     * Redis has the result: its success/error handler runs (on a thread of its own), then the run
     * ends; a worker that stops gracefully waits for both.
     */
    private void recorded(FetchedTask lease, TaskStatus status, Object response, String error, TransitionResult result) {
        resultRecorded = true;
        if (result != TransitionResult.DONE) {
            log.warn("task {} #{}: finished as {} but not recorded: {}", definition.id(), id(), status, result);
            end();
            return;
        }
        String handler;
        List<Object> handlerArgs;
        if (status == TaskStatus.SUCCESS) {
            log.debug("task {} #{}: SUCCESS after {} run(s)", definition.id(), id(), lease.attempt());
            handler = definition.events().success();
            handlerArgs = handler == null ? null : Arrays.asList(id(), response);
        } else {
            log.warn("task {} #{}: FAILURE after {} run(s): {}", definition.id(), id(), lease.attempt(), error);
            handler = definition.events().error();
            handlerArgs = handler == null ? null : Arrays.asList(id(), new ScriptError(error));
        }
        if (handler == null) {
            end();
            return;
        }
        String event = status == TaskStatus.SUCCESS ? "success" : "error";
        try {
            worker.processors().execute(() -> {
                try {
                    runHandler(event, handler, handlerArgs);
                } finally {
                    end();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.error("task {} #{}: event.{} handler {} not run: the worker is stopping", definition.id(), id(), event, handler);
            end();
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
