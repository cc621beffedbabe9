package dev.taskpool.worker.exec;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.TransitionResult;
import dev.taskpool.worker.runtime.AppRuntime;
import dev.taskpool.worker.runtime.CurrentRun;
import dev.taskpool.worker.script.ScriptError;
import io.github.resilience4j.retry.Retry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fetched task in this worker, from its fetch to its end. Its life, in the order of this file:
 *
 * <ol>
 *   <li><b>Fetched.</b> The pump took the task under a lease (token {@code <worker>/<lease>}) and
 *       started this run on a run thread, in a slot. The run is in {@link TaskConsumer}'s running
 *       map: the heartbeat extends its lease and the deadline check watches its attempts.</li>
 *   <li><b>Runs</b> ({@link #runWithRetries}). Each run of the processor is an {@link RunAttempt}
 *       with its own deadline ({@code timeout}). Resilience4j's {@link Retry} decides whether a
 *       failed run runs again (runs left, error retryable); the run then waits out
 *       {@code attempt_after} ({@link #waitBeforeNextRun}) and records the retry, which gives it a
 *       new lease token ({@link #startNextRun}), before the next run starts.</li>
 *   <li><b>Ends</b>, in one of these ways:
 *     <ul>
 *       <li>with a result ({@link #finish}): SUCCESS or FAILURE goes to the pump, which records it
 *           in its next round trip; the slot is free at once. Once Redis has it the
 *           {@code success}/{@code error} handler runs ({@link EventHandler}), and then the run
 *           leaves the running map;</li>
 *       <li>by a {@link StopOrder}: SHUTDOWN hands the task back to the queue (the interrupted run
 *           does not count); LEASE_LOST records nothing, since the task is another run's now;
 *           CANCELED records nothing either: the cancel script ended the task and took the lease,
 *           and the task's {@code error} handler runs once from the kind's due list, not here.</li>
 *       <li>(rarely) with a retry Redis would not take for a lease period: nothing is recorded and the
 *           recoverer puts the task back once its lease expires, as for a worker that died.</li>
 *     </ul></li>
 * </ol>
 *
 * <p>Two kinds of stop are kept apart. A <em>timeout</em> belongs to one {@link RunAttempt}: it fails
 * that run, and the next run starts clean. A <em>stop order</em> (shutdown, lease lost) belongs to
 * the whole run: it is given once and never cleared; it stops the attempt in progress, cuts the
 * {@code attempt_after} wait short, and after it no run starts and nothing is recorded but the
 * hand-back. Both stop an attempt the same way ({@link #stopAttempt}): its thread and its script
 * are interrupted; an attempt that ignores that for {@code --abandon-after} is abandoned: its thread
 * is left to itself and a new thread carries the run on from there ({@link #carryOn}), in the same
 * slot. Should the stuck thread ever return, it leaves without touching anything.
 */
final class TaskRun implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TaskRun.class);

    /** A lasting order to stop the run; the first one given stays. */
    enum StopOrder {
        SHUTDOWN("the worker is stopping"), LEASE_LOST("its lease was lost: the task is another run's now"),
        CANCELED("an operator canceled the task: it is FAILURE already");

        final String why;

        StopOrder(String why) {
            this.why = why;
        }
    }

    private final TaskDefinition definition;
    private final AppRuntime runtime;
    private final WorkerContext worker;
    private final TaskConsumer consumer;
    private final long id;

    /** The run's lease; its token changes with each retry. Written only by the thread carrying the run. */
    private volatile FetchedTask current;
    /** Set once (under this run's monitor, which also wakes {@link #waitBeforeNextRun}); never cleared. */
    private volatile StopOrder order;
    /** The processor call in progress, if any: read without a lock by the deadline check and by stop orders. */
    private volatile RunAttempt attempt;
    /** True while a retry moves the lease to a new token: a heartbeat may then find the old one gone. */
    private volatile boolean leaseMoving;
    /** Set when the result goes to the pump: from then on its lease may be spent any moment. */
    private volatile boolean finishing;
    /** Set once Redis answered for the result: the lease is spent (a handler may still be running). */
    private volatile boolean resultRecorded;
    private final AtomicBoolean slotHeld = new AtomicBoolean(true);
    private final AtomicBoolean handedBack = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();

    TaskRun(FetchedTask fetched, TaskDefinition definition, AppRuntime runtime, WorkerContext worker, TaskConsumer consumer) {
        this.current = fetched;
        this.id = fetched.id();
        this.definition = definition;
        this.runtime = runtime;
        this.worker = worker;
        this.consumer = consumer;
    }

    long id() {
        return id;
    }

    /** The run's current lease. */
    FetchedTask lease() {
        return current;
    }

    /** True once the result went to the pump: the lease is the result's to spend, not to hand back. */
    boolean isFinishing() {
        return finishing;
    }

    /** False once the result is in Redis (the lease is spent; a handler may still be running). */
    boolean holdsLease() {
        return !resultRecorded;
    }

    @Override
    public void run() {
        carryOn(null);
    }

    // ---- 1. The run, from its first run (or from an abandoned attempt) to its end ----

    /**
     * Carries the run to its end: from its first run, or, on a new thread, from the failure of an
     * attempt that was abandoned. Exactly one thread carries the run at a time.
     */
    private void carryOn(RuntimeException abandonedAttemptFailure) {
        Object response;
        try {
            response = runWithRetries(abandonedAttemptFailure);
        } catch (TakenOverException e) {
            return;   // this thread was abandoned; another one carries the run on
        } catch (RetryNotRecordedException e) {
            // The run failed with runs left, but Redis would not take the retry for a whole lease
            // period. Recording FAILURE instead would spend those runs for a cause that is not the
            // task's: record nothing; once the lease expires the recoverer puts the task back.
            if (order == StopOrder.SHUTDOWN) {
                handBack();
            } else {
                log.error("task {} #{}: could not record the retry after run {} ({}); leaving it: once its lease expires"
                        + " the recoverer puts it back in the queue", definition.id(), id, current.attempt(), e.getMessage());
            }
            leave();
            return;
        } catch (RuntimeException failure) {
            StopOrder stop = order;
            if (stop == StopOrder.SHUTDOWN) {
                handBack();
                leave();
            } else if (stop != null) {
                log.warn("task {} #{}: run {} stopped: {}; nothing recorded", definition.id(), id, current.attempt(), stop.why);
                leave();
            } else {
                finish(TaskStatus.FAILURE, null, messageOf(failure));
            }
            return;
        }
        finish(TaskStatus.SUCCESS, response, null);
    }

    /**
     * Runs the processor until a run succeeds or Resilience4j's {@link Retry} gives up (no run left,
     * or an error that is not retried, such as a stop order); throws the last run's error then.
     */
    private Object runWithRetries(RuntimeException abandonedAttemptFailure) {
        List<Object> args = parseArgs();
        int runsLeft = definition.maxRuns() - current.attempt() + 1;   // this run included
        Retry.Context<Object> retry = consumer.retry(Math.max(runsLeft, 1)).context();
        RuntimeException failure = abandonedAttemptFailure;
        while (true) {
            if (failure != null) {
                retry.onRuntimeError(failure);   // throws it back when the run is not to run again
                waitBeforeNextRun();
                startNextRun(messageOf(failure));
            }
            try {
                Object response = runOnce(args);
                retry.onComplete();
                return response;
            } catch (TakenOverException e) {
                throw e;
            } catch (RuntimeException e) {
                failure = e;
            }
        }
    }

    /** Whether Resilience4j may retry after this error: not after a stop order. */
    static boolean retryable(Throwable error) {
        return !(error instanceof RunStoppedException);
    }

    // ---- 2. One run of the processor: an attempt, its deadline and its stop ----

    /** Runs the processor once, on this thread; the deadline check stops it at the task's timeout. */
    private Object runOnce(List<Object> args) {
        List<Object> callArgs = new ArrayList<>(args.size() + 1);
        callArgs.add(id);
        callArgs.addAll(args);
        RunAttempt attempt = new RunAttempt(Thread.currentThread(), System.nanoTime() + definition.timeout().toNanos());
        this.attempt = attempt;
        Object response = null;
        RuntimeException failure = null;
        // An order given before the attempt was visible to stop() is seen here (both fields are
        // volatile: stop() writes the order, then reads the attempt; this is the other way round).
        if (order == null) {
            long startedAt = System.nanoTime();
            try (CurrentRun.Scope ignored = CurrentRun.enter(definition.id(), id, current.token())) {
                response = runtime.call(definition.process(), callArgs);
            } catch (RuntimeException e) {
                failure = e;
            }
            runtime.metrics().runEnded(definition.id(), failure == null && !attempt.timedOut() && order == null,
                    System.nanoTime() - startedAt);
        }
        endAttempt(attempt);   // in a thread whose attempt was abandoned, throws TakenOverException
        Thread.interrupted();   // an interrupt aimed at this attempt must not reach what the thread does next
        StopOrder stop = order;
        if (stop != null) {
            throw new RunStoppedException("run " + current.attempt() + " stopped: " + stop.why);
        }
        if (attempt.timedOut()) {
            // Also when the processor swallowed its interrupt and returned: the run ended by its timeout.
            throw new TaskpoolException(timeoutMessage(false), failure);
        }
        if (failure != null) {
            throw failure;
        }
        return response;
    }

    /** Redis did not take a retry within a lease period (unreachable, full of garbage): the recoverer will. */
    private static final class RetryNotRecordedException extends RuntimeException {
        RetryNotRecordedException(TaskpoolException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Thrown in a stuck thread that comes back after its run was taken over by another thread. */
    private static final class TakenOverException extends RuntimeException {
        TakenOverException() {
            super("the run was taken over after its attempt was abandoned", null, false, false);
        }
    }

    /**
     * The attempt's thread leaves it; in a thread whose attempt was abandoned, it leaves the run at
     * once. The usual end claims the attempt before any stop could: no stopper exists then, or ever
     * will, and leaving costs one compare-and-set.
     */
    private void endAttempt(RunAttempt ending) {
        if (!ending.claim(RunAttempt.ENDED)) {
            synchronized (ending) {   // waits for the interrupt in progress: it must land inside the attempt
                ending.over = true;
                ending.notifyAll();   // the stopper, waiting to see whether to abandon it
                if (ending.abandoned) {
                    throw new TakenOverException();
                }
            }
        }
        attempt = null;
    }

    /** Called by the worker's deadline check every few milliseconds: stops an attempt past its deadline. */
    void checkTimeout(long nowNanos) {
        RunAttempt running = attempt;
        if (running != null && running.isDue(nowNanos) && running.claim(RunAttempt.TIMED_OUT)) {
            startStopping(running);
        }
    }

    /**
     * Gives the lasting stop order (shutdown, lease lost); the first one given stays. A run waiting
     * out {@code attempt_after} goes on to its end at once; the attempt in progress is stopped.
     * Returns whether this order stopped the run (false: an earlier order had).
     */
    boolean stop(StopOrder given) {
        synchronized (this) {
            if (order != null) {
                return false;
            }
            order = given;
            notifyAll();
        }
        if (given == StopOrder.CANCELED) {
            runtime.metrics().canceled(definition.id());
        }
        RunAttempt running = attempt;
        if (running != null && running.claim(RunAttempt.ORDERED)) {
            startStopping(running);
        }
        return true;
    }

    /**
     * The heartbeat found that this worker no longer holds lease {@code token}. Unless that token
     * is not the run's any more (a retry moved it on) or the run has just handed over its result
     * (which spends the lease), another worker recovered the task, and the run stops. Returns
     * whether this stopped it (false also when it was stopped already).
     */
    boolean leaseLost(String token) {
        if (leaseMoving || finishing) {   // (read before current: see startNextRun)
            return false;
        }
        if (!current.token().equals(token)) {
            return false;
        }
        return stop(StopOrder.LEASE_LOST);
    }

    /**
     * An operator canceled the task while this run held lease {@code token}: the run stops like
     * at a timeout (its script is interrupted) and records nothing. Ignored when the run has moved
     * on to another token or has handed over its result (which Redis then refuses: no lease).
     * Tokens never repeat for a task, so a cancel aimed at an earlier run never stops this one.
     * Returns whether this stopped it (false also when it was stopped already).
     */
    boolean canceled(String token) {
        if (finishing || !current.token().equals(token)) {
            return false;
        }
        return stop(StopOrder.CANCELED);
    }

    /**
     * Stopping takes a thread of its own: a script may take up to {@link Timeouts#INTERRUPT_LIMIT} to notice
     * its interrupt, and that must delay neither the deadline check (which watches every run) nor
     * whoever gave the order.
     */
    private void startStopping(RunAttempt stopping) {
        consumer.threads().startStopping(() -> stopAttempt(stopping));   // (refused once the worker stopped: its run threads were interrupted then)
    }

    /**
     * Interrupts the attempt's thread and its script, then waits up to {@code --abandon-after} for
     * it to end; abandons it if it does not. The attempt's monitor is held while interrupting, so
     * its thread cannot leave the attempt (and start other work the interrupt was not meant for)
     * in the meantime; no other lock is held.
     */
    private void stopAttempt(RunAttempt stopping) {
        long abandonAt = System.nanoTime() + worker.settings().abandonAfter().toNanos();
        synchronized (stopping) {
            if (stopping.over) {
                return;
            }
            stopping.thread.interrupt();
            if (!runtime.scripts().interrupt(stopping.thread, Timeouts.INTERRUPT_LIMIT)) {
                log.error("task {} #{}: the script did not stop within {} s of its interrupt; its context was closed",
                        definition.id(), id, Timeouts.INTERRUPT_LIMIT.toSeconds());
            }
            try {
                for (long left = abandonAt - System.nanoTime(); !stopping.over && left > 0; left = abandonAt - System.nanoTime()) {
                    TimeUnit.NANOSECONDS.timedWait(stopping, left);
                }
            } catch (InterruptedException e) {
                return;   // the worker's threads are being shut down: nothing is carried on any more
            }
            if (stopping.over) {
                return;
            }
            stopping.abandoned = true;
        }
        attempt = null;
        log.error("task {} #{}: run {} ignored its interrupt for {}; abandoning its thread {} (it keeps running until"
                + " it returns)", definition.id(), id, current.attempt(), Durations.text(worker.settings().abandonAfter()),
                stopping.thread.getName());
        StopOrder stop = order;
        RuntimeException failure = stop != null
                ? new RunStoppedException("run " + current.attempt() + " stopped: " + stop.why)
                : new TaskpoolException(timeoutMessage(true));
        if (!consumer.threads().startTakeover(() -> carryOn(failure))) {
            leave();   // the worker has stopped: once the lease expires the recoverer puts the task back
        }
    }

    private String timeoutMessage(boolean abandoned) {
        return "timeout: run " + current.attempt() + " took longer than " + Durations.text(definition.timeout())
                + " and was stopped" + (abandoned ? " (the processor ignored its interrupt; its thread was abandoned)" : "");
    }

    // ---- 3. Between runs: attempt_after, then the retry recorded ----

    /** Waits out {@code attempt_after}; a stop order cuts the wait short and ends the run. */
    private void waitBeforeNextRun() {
        long pause = definition.attemptAfter().toNanos();
        long until = System.nanoTime() + pause;
        synchronized (this) {
            try {
                for (long left = pause; order == null && left > 0; left = until - System.nanoTime()) {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException e) {
                // Only a stopping worker interrupts a run thread between attempts. (The interrupt is
                // not kept: handing the task back still needs Redis.)
                stop(StopOrder.SHUTDOWN);
            }
        }
        StopOrder stop = order;
        if (stop != null) {
            throw new RunStoppedException("stopped before run " + (current.attempt() + 1) + ": " + stop.why);
        }
    }

    /** Records the failed run and starts the next one under a new lease token. */
    private void startNextRun(String error) {
        FetchedTask failed = current;
        FetchedTask next = failed.nextRun();
        TransitionResult result;
        leaseMoving = true;
        try {
            result = persistRetry(() -> {
                long now = runtime.clock().millis();
                var message = TaskEvent.retry(definition.id(), id, next.attempt(), error, now);
                return runtime.runs().retry(failed, next, String.valueOf(error), now,
                        now + worker.settings().lease().toMillis(), message.toString());
            });
            if (result == TransitionResult.DONE) {
                current = next;   // before leaseMoving is cleared: leaseLost reads them the other way round
                runtime.metrics().retried(definition.id());
            }
        } finally {
            leaseMoving = false;
        }
        if (result != TransitionResult.DONE) {
            stop(StopOrder.LEASE_LOST);
            throw new RunStoppedException("cannot start run " + next.attempt() + ": " + result);
        }
        log.info("task {} #{}: run {} failed ({}), starting run {}", definition.id(), id, failed.attempt(), error,
                next.attempt());
    }

    private TransitionResult persistRetry(Supplier<CompletableFuture<TransitionResult>> write) {
        try {
            return consumer.transitions().persist("record a retry", id, write);
        } catch (TaskpoolException e) {
            throw new RetryNotRecordedException(e);
        }
    }

    // ---- 4. The end: the result recorded and its handler, or the task handed back ----

    /**
     * Hands the run's result to the pump, which records it in its next round trip (batched with
     * other runs' ends); the slot is free from here on. The rest (the success/error handler, or
     * recording it alone should that round trip fail) happens once Redis answered, off this thread.
     */
    private void finish(TaskStatus status, Object response, String error) {
        String payload;
        if (status == TaskStatus.SUCCESS) {
            try {
                payload = runtime.limits().resultJson(response);
            } catch (RuntimeException e) {
                finish(TaskStatus.FAILURE, null, "the processor's result cannot be stored as JSON: " + e.getMessage());
                return;
            }
        } else {
            payload = error;
        }
        FetchedTask lease = current;
        finishing = true;
        CompletableFuture<TransitionResult> batched = consumer.submit(new RunStore.Completion(lease, status, payload));
        releaseSlot();
        batched.whenComplete((result, failure) -> {
            if (failure == null) {
                recorded(lease, status, response, error, result);
            } else {
                // Recording it alone retries with back-off: never on the thread that answered.
                if (!consumer.threads().startRecording(() -> recordAlone(lease, status, response, error, payload))) {
                    log.error("task {} #{}: could not record {}: the worker has stopped; once its lease expires it runs again",
                            definition.id(), id, status);
                    end();
                }
            }
        });
    }

    private void recordAlone(FetchedTask lease, TaskStatus status, Object response, String error, String payload) {
        TransitionResult result;
        try {
            result = consumer.transitions().persist("complete", id, () -> runtime.runs().complete(lease, status, payload,
                    runtime.clock().millis(), definition.keep()));
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not record {}: {}; once its lease expires it runs again", definition.id(), id,
                    status, e.getMessage());
            end();
            return;
        }
        recorded(lease, status, response, error, result);
    }

    /**
     * Redis has the result: its success/error handler runs (on a thread of its own, under the
     * task's timeout), then the run ends; a worker that stops gracefully waits for both.
     */
    private void recorded(FetchedTask lease, TaskStatus status, Object response, String error, TransitionResult result) {
        resultRecorded = true;
        if (result != TransitionResult.DONE) {
            log.warn("task {} #{}: finished as {} but not recorded: {}", definition.id(), id, status, result);
            end();
            return;
        }
        if (status == TaskStatus.SUCCESS) {
            runtime.metrics().succeeded(definition.id());
        } else {
            runtime.metrics().failed(definition.id());
        }
        String handler;
        List<Object> handlerArgs;
        if (status == TaskStatus.SUCCESS) {
            log.debug("task {} #{}: SUCCESS after {} run(s)", definition.id(), id, lease.attempt());
            handler = definition.events().success();
            handlerArgs = handler == null ? null : Arrays.asList(id, response);
        } else {
            log.warn("task {} #{}: FAILURE after {} run(s): {}", definition.id(), id, lease.attempt(), error);
            handler = definition.events().error();
            handlerArgs = handler == null ? null : Arrays.asList(id, new ScriptError(error));
        }
        if (handler == null) {
            end();
            return;
        }
        EventHandler.start(worker, runtime, definition, status == TaskStatus.SUCCESS ? "success" : "error", handler, id,
                handlerArgs, this::end);
    }

    /** Hands the task back to the queue (graceful stop): the interrupted run does not count. At most once. */
    void handBack() {
        if (!handedBack.compareAndSet(false, true)) {
            return;
        }
        try {
            TransitionResult result = runtime.runs().await(runtime.runs().release(current, runtime.clock().millis()),
                    "hand task " + definition.id() + " #" + id + " back");
            log.info("task {} #{}: handed back to the queue ({})", definition.id(), id, result);
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not hand it back ({}); the recoverer will", definition.id(), id, e.getMessage());
        }
    }

    /** The run ends here without a result: the slot is free and the run leaves the running map. */
    void leave() {
        releaseSlot();
        end();
    }

    /** Gives the run's slot back, once: when its result goes to the pump, or when it ends otherwise. */
    private void releaseSlot() {
        if (slotHeld.compareAndSet(true, false)) {
            consumer.releaseSlot();
        }
    }

    /**
     * The run is over for this worker: it leaves the running map (and so the heartbeat). A run
     * whose result is being recorded stays in it until Redis has the result, so that its lease is
     * kept alive through a Redis outage.
     */
    private void end() {
        if (ended.compareAndSet(false, true)) {
            consumer.ended(this);
        }
    }

    private List<Object> parseArgs() {
        return Json.readArgs(current.args(), "task " + definition.id() + " #" + id + ": field 'args'");
    }

    private static String messageOf(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
