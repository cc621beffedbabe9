package dev.taskpool.worker.exec;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.TransitionResult;
import dev.taskpool.worker.runtime.AppRuntime;
import dev.taskpool.worker.runtime.CurrentRun;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fetched task in this worker, from its fetch to its end: its states and their order are in
 * {@link RunState}, whose one {@link RunState.Machine} holds where the run is. This file follows
 * the same order: the run (1), its attempt of the processor and its stop (2), a failure with runs
 * left, which gives the task back to Redis to wait for its next run (3), the end (4). A run runs
 * the processor once: the next run of a failed task is another fetch, by any worker, once its wait
 * is over, and this run's slot takes other work meanwhile.
 *
 * <p>Two kinds of stop are kept apart. A <em>timeout</em> belongs to the attempt: it fails the run,
 * which may then be retried. A <em>stop order</em> (shutdown, lease lost, canceled) belongs to the
 * whole run: it is given once and never cleared; it stops the attempt in progress, and after it
 * nothing is recorded but the hand-back. Both stop an attempt the same way, through
 * {@link AttemptStop}; an attempt that ignores its interrupt for {@code --abandon-after} is
 * abandoned: its thread is left to itself and a new thread carries the run on from there
 * ({@link #carryOn}), in the same slot. Should the stuck thread ever return, it leaves without
 * touching anything.
 */
final class TaskRun implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TaskRun.class);

    private final RunKind kind;
    private final TaskDefinition definition;
    private final AppRuntime runtime;
    private final RunHost host;
    private final long id;
    private final RunState.Machine state = new RunState.Machine();

    /** The run's lease: the task as fetched, under its token. */
    private final FetchedTask current;
    /** Set once (under this run's monitor); never cleared. */
    private volatile StopOrder order;
    /** The processor call in progress, if any: read without a lock by the deadline check and by stop orders. */
    private volatile AttemptStop attempt;

    TaskRun(FetchedTask fetched, RunKind kind, RunHost host) {
        this.current = fetched;
        this.id = fetched.id();
        this.kind = kind;
        this.definition = kind.definition();
        this.runtime = kind.runtime();
        this.host = host;
    }

    long id() {
        return id;
    }

    /** The run's lease. */
    FetchedTask lease() {
        return current;
    }

    /** True once the result went to the pump: the lease is the result's to spend, not to hand back. */
    boolean isFinishing() {
        return state.get().resultHandedOver();
    }

    /** True while the retry script gives the task back to Redis (it is not handed back then: the retry does that). */
    boolean isRecordingRetry() {
        return state.get() == RunState.RECORDING_RETRY;
    }

    /** False once the result is in Redis (the lease is spent; a handler may still be running). */
    boolean holdsLease() {
        return state.get().holdsLease();
    }

    @Override
    public void run() {
        if (state.transition(RunState.FETCHED, RunState.RUNNING)) {
            carryOn(null);
        }   // (else a stopping worker ended it before its thread started)
    }

    // ---- 1. The run, from its start (or from an abandoned attempt) to its end ----

    /**
     * Carries the run to its end: from its start, or, on a new thread, from the failure of an
     * attempt that was abandoned. Exactly one thread carries the run at a time.
     */
    private void carryOn(RuntimeException abandonedAttemptFailure) {
        RuntimeException failure = abandonedAttemptFailure;
        Object response = null;
        if (failure == null) {
            List<Object> args;
            try {
                args = parseArgs();
            } catch (RuntimeException unreadable) {
                finish(TaskStatus.FAILURE, null, messageOf(unreadable));   // (no run would read them better)
                return;
            }
            try {
                response = runOnce(args);
            } catch (AttemptStop.TakenOverException e) {
                kind.threads().abandonedThreadReturned();
                return;   // this thread was abandoned; another one carries the run on
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure == null) {
            finish(TaskStatus.SUCCESS, response, null);
        } else {
            afterFailure(failure);
        }
    }

    /**
     * The run failed: a stop order ends it (SHUTDOWN hands the task back, the others record
     * nothing); else Resilience4j's {@code Retry} ({@link RunRetries}) decides whether the task runs
     * again, and after what wait, or ends in FAILURE.
     */
    private void afterFailure(RuntimeException failure) {
        StopOrder stop = order;
        if (stop == StopOrder.SHUTDOWN) {
            handBack();
            leave();
            return;
        }
        if (stop != null) {
            log.warn("task {} #{}: run {} stopped: {}; nothing recorded", definition.id(), id, current.attempt(), stop.why);
            leave();
            return;
        }
        RunRetries.NextRun next = kind.retries().afterFailure(current.attempt(), failure);
        if (next == null) {
            finish(TaskStatus.FAILURE, null, messageOf(failure));
        } else {
            recordRetry(messageOf(failure), next);
        }
    }

    // ---- 2. One run of the processor: an attempt, its deadline and its stop ----

    /** Runs the processor once, on this thread; the deadline check stops it at the task's timeout. */
    private Object runOnce(List<Object> args) {
        List<Object> callArgs = new ArrayList<>(args.size() + 1);
        callArgs.add(id);
        callArgs.addAll(args);
        AttemptStop attempt = AttemptStop.onThisThread(System.nanoTime() + definition.timeout().toNanos());
        this.attempt = attempt;
        Object response = null;
        RuntimeException failure = null;
        // An order given before the attempt was visible to stop() is seen here (both fields are
        // volatile: stop() writes the order, then reads the attempt; this is the other way round).
        if (order == null) {
            long startedAt = System.nanoTime();
            try (CurrentRun.Scope ignored = CurrentRun.enter(definition.id(), id, current.token(), current.task(),
                    current.attempt())) {
                response = runtime.call(definition.process(), callArgs);
            } catch (RuntimeException e) {
                failure = e;
            }
            runtime.metrics().runEnded(definition.id(), failure == null && !attempt.timedOut() && order == null,
                    System.nanoTime() - startedAt);
        }
        if (!attempt.leave()) {
            throw new AttemptStop.TakenOverException();   // this thread's attempt was abandoned: another thread carries the run
        }
        this.attempt = null;
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

    /** Called by the worker's deadline check every few milliseconds: stops an attempt past its deadline. */
    void checkTimeout(long nowNanos) {
        AttemptStop running = attempt;
        if (running != null && running.isDue(nowNanos) && running.claim(AttemptStop.Claim.TIMED_OUT)) {
            startStopping(running);
        }
    }

    /**
     * Gives the lasting stop order (shutdown, lease lost); the first one given stays. The attempt in
     * progress is stopped. Returns whether this order stopped the run (false: an earlier order had).
     */
    boolean stop(StopOrder given) {
        synchronized (this) {
            if (order != null) {
                return false;
            }
            order = given;
        }
        if (given == StopOrder.CANCELED) {
            runtime.metrics().canceled(definition.id());
        }
        AttemptStop running = attempt;
        if (running != null && running.claim(AttemptStop.Claim.ORDERED)) {
            startStopping(running);
        }
        return true;
    }

    /**
     * The heartbeat found that this worker no longer holds lease {@code token}. Unless that token
     * is not the run's, or the run has just spent the lease itself (its retry or its result is
     * being recorded), another worker recovered the task, and the run stops. Returns whether this
     * stopped it (false also when it was stopped already).
     */
    boolean leaseLost(String token) {
        RunState now = state.get();
        if (now == RunState.RECORDING_RETRY || now.resultHandedOver() || now == RunState.ENDED) {
            return false;
        }
        if (!current.token().equals(token)) {
            return false;
        }
        return stop(StopOrder.LEASE_LOST);
    }

    /**
     * An operator canceled the task while this run held lease {@code token}: the run stops like
     * at a timeout (its script is interrupted) and records nothing. Ignored when the token is not
     * the run's or the run has handed over its result (which Redis then refuses: no lease).
     * Tokens never repeat for a task, so a cancel aimed at an earlier run never stops this one.
     * Returns whether this stopped it (false also when it was stopped already).
     */
    boolean canceled(String token) {
        RunState now = state.get();
        if (now.resultHandedOver() || now == RunState.ENDED || !current.token().equals(token)) {
            return false;
        }
        return stop(StopOrder.CANCELED);
    }

    /**
     * Stopping takes a thread of its own: a script may take up to {@link Timeouts#INTERRUPT_LIMIT}
     * to notice its interrupt, and that must delay neither the deadline check (which watches every
     * run) nor whoever gave the order.
     */
    private void startStopping(AttemptStop stopping) {
        kind.threads().startStopping(() -> stopAttempt(stopping));   // (refused once the worker stopped: its run threads were interrupted then)
    }

    /**
     * Stops the attempt ({@link AttemptStop#stop}); if it was abandoned, a new run thread carries
     * the run on from the attempt's failure: a timeout, or the stop order.
     */
    private void stopAttempt(AttemptStop stopping) {
        Duration abandonAfter = kind.worker().settings().abandonAfter();
        if (stopping.stop(runtime.scripts(), abandonAfter, "task " + definition.id() + " #" + id) != AttemptStop.Outcome.ABANDONED) {
            return;   // it left (or the worker's threads are being shut down: nothing is carried on any more)
        }
        attempt = null;
        log.error("task {} #{}: run {} ignored its interrupt for {}; abandoning its thread {} (it keeps running until"
                + " it returns)", definition.id(), id, current.attempt(), Durations.text(abandonAfter), stopping.threadName());
        StopOrder stop = order;
        RuntimeException failure = stop != null
                ? new RunStoppedException("run " + current.attempt() + " stopped: " + stop.why)
                : new TaskpoolException(timeoutMessage(true));
        if (!kind.threads().startTakeover(() -> carryOn(failure))) {
            leave();   // the worker has stopped: once the lease expires the recoverer puts the task back
        }
    }

    private String timeoutMessage(boolean abandoned) {
        return "timeout: run " + current.attempt() + " took longer than " + Durations.text(definition.timeout())
                + " and was stopped" + (abandoned ? " (the processor ignored its interrupt; its thread was abandoned)" : "");
    }

    // ---- 3. A failure with runs left: the task goes back to Redis to wait for its next run ----

    /**
     * Records the failed run and gives the task back: the retry script ends the lease and puts the
     * task in the kind's {@code delayed} set, due after {@code next.delay()} (with no wait, at the back
     * of the queue). Then the run ends and its slot takes other work. Tried again for up to a lease
     * period while Redis is away; past that nothing is recorded and, once the lease expires, the
     * recoverer puts the task back (recording FAILURE instead would spend the runs it has left for
     * a cause that is not the task's).
     */
    private void recordRetry(String error, RunRetries.NextRun next) {
        if (!state.transition(RunState.RUNNING, RunState.RECORDING_RETRY)) {
            return;   // a stopping worker ended the run meanwhile (and gave its slot back)
        }
        // A heartbeat may find the lease gone from here on: leaseLost ignores it in this state.
        TransitionResult result;
        try {
            result = kind.transitions().persist("record a retry", id,
                    () -> runtime.runs().retry(current, error, runtime.clock().millis(), next.delay(),
                            next.holdsKind() ? RunStore.RetryCount.HOLDS_KIND
                                    : next.counts() ? RunStore.RetryCount.COUNTED : RunStore.RetryCount.FREE));
        } catch (TaskpoolException e) {
            log.error("task {} #{}: could not record the retry after run {} ({}); leaving it: once its lease expires"
                    + " the recoverer puts it back in the queue", definition.id(), id, current.attempt(), e.getMessage());
            leave();
            return;
        }
        if (result == TransitionResult.DONE && next.holdsKind()) {
            holdOtherPartitions(error, next.delay());
        }
        if (result == TransitionResult.DONE) {
            runtime.metrics().retried(definition.id());
            log.info("task {} #{}: run {} failed ({}){}; the next run is due in {}", definition.id(), id, current.attempt(),
                    error, next.counts() ? "" : " and does not count", Durations.text(next.delay()));
        } else {
            log.warn("task {} #{}: run {} failed ({}), and its retry was refused: {}", definition.id(), id,
                    current.attempt(), error, result);
        }
        leave();
    }

    /**
     * A {@code RateLimited} run of a partitioned kind held its own partition back (retry-7); the
     * kind's other partitions hold back as well, so the whole kind waits as the processor asked.
     * Best effort, without waiting: a partition that misses it finds out from its own runs.
     */
    private void holdOtherPartitions(String error, Duration wait) {
        KindLayout layout = runtime.adds().layouts().of(definition.id());
        if (!layout.partitioned()) {
            return;
        }
        long until = runtime.clock().millis() + wait.toMillis();
        for (String partition : layout.partitions()) {
            if (!partition.equals(current.task())) {
                runtime.runs().hold(partition, until, error).whenComplete((ignored, failure) -> {
                    if (failure != null) {
                        log.warn("task {}: could not hold partition {} back until {}: {}", definition.id(), partition, until,
                                failure.getMessage());
                    }
                });
            }
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
        // (Refused only when a stopping worker ended the run meanwhile: it gave the slot back then.)
        boolean slotHeld = state.transition(RunState.RUNNING, RunState.FINISHING);
        CompletableFuture<TransitionResult> batched = host.submit(new RunStore.Completion(lease, status, payload));
        if (slotHeld) {
            host.releaseSlot();
        }
        new RunResult(kind, id, state, this::leave, lease, status, response, error, payload).follow(batched);
    }

    /**
     * Hands the task back to the queue (graceful stop): the interrupted run does not count. At most
     * once, and never once the result went to the pump.
     */
    void handBack() {
        if (state.moveTo(RunState.HANDING_BACK) == null) {
            return;   // handed back already, finishing, or ended
        }
        try {
            TransitionResult result = runtime.runs().await(runtime.runs().release(current, runtime.clock().millis()),
                    "hand task " + definition.id() + " #" + id + " back");
            log.info("task {} #{}: handed back to the queue ({})", definition.id(), id, result);
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not hand it back ({}); the recoverer will", definition.id(), id, e.getMessage());
        }
    }

    /**
     * The run is over for this worker, once: it gives its slot back if it still holds one and leaves
     * the run table (and so the heartbeat). A run whose result is being recorded stays in the table
     * until Redis has the result, so that its lease is kept alive through a Redis outage.
     */
    void leave() {
        RunState left = state.moveTo(RunState.ENDED);
        if (left == null) {
            return;
        }
        if (left.holdsSlot()) {
            host.releaseSlot();
        }
        host.ended(this);
    }

    private List<Object> parseArgs() {
        return Json.readArgs(current.args(), "task " + definition.id() + " #" + id + ": field 'args'");
    }

    private static String messageOf(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
