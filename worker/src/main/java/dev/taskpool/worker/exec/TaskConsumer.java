package dev.taskpool.worker.exec;

import dev.taskpool.core.connect.BlockingConnection;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.TransitionResult;
import dev.taskpool.worker.runtime.AppRuntime;
import dev.taskpool.worker.script.ScriptError;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runs of one task in this worker process: {@code worker_nums} slots and a pump that talks
 * to Redis. Each round trip of the pump is one script call that ends every run that finished
 * since the last one and takes as many waiting tasks as there are free slots, so under load
 * acknowledgements and fetches are batched. The pump has no thread of its own: whoever makes work
 * for it (a run that ends, a round trip that comes back, the waiter) sends the next round trip.
 * When nothing is waiting, a waiter thread blocks on Redis (BLPOP on the task's wake list): an
 * idle worker never polls in a loop. The pump's decisions and the invariants they keep are in
 * {@link PumpState}; this class does the I/O. The runs in progress are in the {@link RunTable}; a
 * run's own life is in {@link TaskRun}, which reaches back here only through {@link RunHost}.
 */
final class TaskConsumer implements RunHost {
    private static final Logger log = LoggerFactory.getLogger(TaskConsumer.class);
    private static final Duration ERROR_BACKOFF = Duration.ofSeconds(1);
    /** A Redis that stays away (down, full, a broken key) is logged once per interval, not once per round trip. */
    private final RateLimitedLog roundTripFailures = new RateLimitedLog(log, "a round trip to Redis", RateLimitedLog.INTERVAL);
    private final RateLimitedLog waitFailures = new RateLimitedLog(log, "waiting for work", RateLimitedLog.INTERVAL);
    /** The most runs ended in one round trip (bounds the size of one script call). */
    private static final int MAX_BATCH = 500;
    /** The most a worker adds to the time a held-back kind may start again, ms. */
    private static final long HELD_BACK_JITTER_MS = 20;
    /** The most due delayed tasks one call moves to the queue (as a fetch moves). */
    private static final int DUE_STEP = 1000;

    private record PendingCompletion(RunStore.Completion completion, CompletableFuture<TransitionResult> result) {
    }

    private final TaskDefinition definition;
    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final WorkerContext worker;
    private final String partition;
    private final Keys keys;
    private final PumpState state;
    private final RunThreads threads;
    private final RunTable runs;
    private final ConcurrentLinkedQueue<PendingCompletion> completions = new ConcurrentLinkedQueue<>();
    private final Semaphore wakeRequests = new Semaphore(0);
    /** Slots holding a run now (a run gives its slot back when its result goes to the pump): for the metrics. */
    private final AtomicInteger busySlots = new AtomicInteger();
    /** Timers for the due times of delayed tasks this worker watches: an idle worker starts them on time. */
    private final DueTimers dueTimers;
    private volatile boolean pumping;
    private Thread waiter;
    private BlockingConnection blocking;

    /**
     * @param definition the kind's definition, with this consumer's share of {@code worker_nums}
     * @param partition  the kind's partition this consumer takes from ({@link Keys#partition()}: the
     *                   kind itself unless it is partitioned)
     */
    TaskConsumer(TaskDefinition definition, String partition, AppRuntime runtime, WorkerContext worker) {
        this.definition = definition;
        this.partition = partition;
        this.runtime = runtime;
        this.settings = worker.settings();
        this.worker = worker;
        this.keys = Keys.of(partition);
        this.state = new PumpState(definition.workerNums());
        this.threads = new RunThreads(definition.id(), definition.workerNums());
        TransitionWrites transitions = new TransitionWrites(definition.id(), runtime.runs(), settings.lease());
        this.runs = new RunTable(new RunKind(definition, runtime, worker, threads, transitions,
                new RunRetries(definition)), this);
        this.dueTimers = new DueTimers(worker.timers(), runtime.clock(), this::dueTimeReached);
    }

    TaskDefinition definition() {
        return definition;
    }

    /** The partition this consumer takes from (the kind itself unless it is partitioned). */
    String partition() {
        return partition;
    }

    void start() {
        blocking = runtime.redis().newBlockingConnection();
        pumping = true;
        pump();
        waiter = Thread.ofPlatform().daemon().name("wait-" + partition).start(this::waitLoop);
    }

    /**
     * Hands a finished run to the pump, which records it in its next round trip; the run's slot
     * is free from now on (the same round trip may fill it).
     */
    @Override
    public CompletableFuture<TransitionResult> submit(RunStore.Completion completion) {
        CompletableFuture<TransitionResult> result = new CompletableFuture<>();
        completions.add(new PendingCompletion(completion, result));
        return result;
    }

    /** A run gives its slot back (when it ends, or when it hands its completion to the pump). */
    @Override
    public void releaseSlot() {
        busySlots.decrementAndGet();
        state.slotReleased();
        pump();
    }

    /**
     * Sends a round trip if there is something to send (finished runs to record, free slots to
     * fill) and fewer than {@link PumpState#MAX_IN_FLIGHT} are in flight; called by whoever may have
     * made work: a run that ends, a round trip that comes back, the waiter. There is no pump thread
     * to wake: the caller sends it, and while both round trips are in flight the runs that end
     * meanwhile gather into the next batch, which the first one back sends. Why no work is stranded
     * and no wake-up lost: see {@link PumpState}.
     */
    private void pump() {
        while (pumping) {
            if (!state.tryStartRoundTrip()) {
                return;   // all in flight: the first one back pumps again
            }
            List<PendingCompletion> batch = new ArrayList<>();
            PendingCompletion next;
            while (batch.size() < MAX_BATCH && (next = completions.poll()) != null) {
                batch.add(next);
            }
            PumpState.Fetch fetch = state.planFetch(!batch.isEmpty());
            if (!batch.isEmpty() || fetch.take() > 0) {
                roundTrip(batch, fetch);
                continue;   // the other permit may have something to send too
            }
            state.endRoundTrip();
            if (state.shouldWaitForWork() && wakeRequests.availablePermits() == 0) {
                wakeRequests.release();   // let the waiter block on Redis until work arrives
            }
            if (!state.hasWork(!completions.isEmpty())) {
                return;   // (work made visible before the permit was given back is seen by this look)
            }
        }
    }

    /**
     * Sends one round trip without waiting for it: while Redis runs it, the runs that end gather
     * into the next (at most {@link PumpState#MAX_IN_FLIGHT} round trips are in flight).
     */
    private void roundTrip(List<PendingCompletion> batch, PumpState.Fetch fetch) {
        long now = runtime.clock().millis();
        CompletableFuture<RunStore.FinishResult> call;
        try {
            call = runtime.runs().finish(partition, settings.workerId(),
                    batch.stream().map(PendingCompletion::completion).toList(), fetch.take(), now,
                    now + settings.lease().toMillis(), definition.keep());
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.orTimeout(runtime.redis().timeouts().replyWait().toMillis(), TimeUnit.MILLISECONDS).whenComplete((result, error) -> {
            if (error != null) {
                state.roundTripFailed(fetch);
                try {
                    batch.forEach(pending -> pending.result().completeExceptionally(error));
                    if (pumping) {
                        roundTripFailures.failed("task " + partition + ", again every " + ERROR_BACKOFF.toSeconds() + " s",
                                error);
                    }
                } finally {
                    // Whatever failed above, the permit comes back (thrown here, the exception would
                    // vanish into the future, and without its permit the pump would stop for good).
                    afterBackOff(() -> {
                        state.endRoundTrip();
                        pump();
                    });
                }
                return;
            }
            roundTripFailures.succeeded();
            try {
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).result().complete(result.ended().get(i));
                }
                runDueErrorHandlers(result.errorHandlersDue());
                List<FetchedTask> fetched = result.fetched();
                state.fetched(fetch, fetched.size());
                learnDue(result, now);
                for (FetchedTask task : fetched) {
                    start(task);
                }
            } catch (RuntimeException e) {
                // (thrown here it would vanish into the future; runs not started are recovered after their lease)
                log.error("task {}: handling a round trip's answer failed: {}", definition.id(), e.getMessage(), e);
            } finally {
                state.endRoundTrip();
                pump();
            }
        });
    }

    /**
     * What a fetch told of the delayed tasks: more due than it moved (fetch again: the pump does,
     * after this round trip, when a slot is free; else the script woke another worker), or the
     * earliest due time, which this worker watches when the script picked it.
     */
    private void learnDue(RunStore.FinishResult result, long now) {
        long due = result.nextDue();
        if (due <= 0) {
            return;   // nothing delayed, or the call did not look
        }
        if (due <= now) {
            state.wokenUp();
        } else if (result.watchDue()) {
            // The end of a hold or of the rate window: a little jitter, so that a watcher set
            // for the same time by another worker (the watch key lapsed) does not fetch in step.
            dueTimers.watch(result.heldBack() ? due + ThreadLocalRandom.current().nextLong(HELD_BACK_JITTER_MS + 1) : due);
        }
    }

    /**
     * A watched due time was reached: fetch, which moves the due tasks to the queue first. With
     * every slot busy, Redis moves them instead and wakes an idle worker, if any (the script's token).
     */
    private void dueTimeReached() {
        if (!state.isFetching()) {
            return;
        }
        if (state.freeSlots() > 0) {
            state.wokenUp();
            pump();
            return;
        }
        runtime.runs().promoteDue(partition, runtime.clock().millis(), DUE_STEP).whenComplete((promotion, error) -> {
            if (error != null) {
                waitFailures.failed("task " + partition + ": moving due delayed tasks to the queue", error);
            }
        });
    }

    /**
     * Canceled tasks whose {@code error} handler Redis handed to this worker (each to one worker
     * only): run like a run's own handler, off the pump's thread, under the task's timeout.
     */
    private void runDueErrorHandlers(List<RunStore.DueHandler> due) {
        String handler = definition.events().error();
        for (RunStore.DueHandler task : due) {
            if (handler == null) {
                log.warn("task {} #{}: its error handler is due, but this worker's definition has none", definition.id(), task.id());
                continue;
            }
            EventHandler.start(worker, runtime, definition, "error", handler, task.id(),
                    Arrays.asList(task.id(), new ScriptError(task.error())), () -> { });
        }
    }

    /** An operator canceled task {@code id}, whose lease was {@code token}: see {@link RunTable#canceled}. */
    boolean canceled(long id, String token) {
        return runs.canceled(id, token);
    }

    /** Runs {@code next} after {@link #ERROR_BACKOFF} (at once when the worker is stopping). */
    private void afterBackOff(Runnable next) {
        try {
            worker.timers().schedule(next, ERROR_BACKOFF.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            next.run();
        }
    }

    /** Blocks on Redis when asked to, then tells the pump to look again (a token arrived, or time passed). */
    private void waitLoop() {
        while (state.isFetching()) {
            try {
                wakeRequests.acquire();
                wakeRequests.drainPermits();
                if (!state.isFetching()) {
                    return;
                }
                if (!state.shouldWaitForWork()) {
                    continue;   // something changed since it asked; whatever changed it pumps (see PumpState)
                }
                blocking.blpop(settings.idleBlock(), keys.wake());
                waitFailures.succeeded();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!state.isFetching()) {
                    return;
                }
                // UNBLOCKED: the master became a replica (a Cluster failover) and let go of its
                // blocked clients; nothing failed: look again at once, and the next wait follows
                // the slot to its new master.
                if (!String.valueOf(e.getMessage()).startsWith("UNBLOCKED")) {
                    waitFailures.failed("task " + partition + ", again every " + ERROR_BACKOFF.toSeconds() + " s", e);
                    sleepQuietly(ERROR_BACKOFF);
                }
            }
            state.wokenUp();
            pump();
        }
    }

    private void start(FetchedTask task) {
        busySlots.incrementAndGet();
        if (task.attempt() == 1 && task.createdAt() > 0) {
            runtime.metrics().started(definition.id(), runtime.clock().millis() - task.createdAt());
        }
        runs.start(task);
    }

    @Override
    public void ended(TaskRun run) {
        runs.ended(run);
    }

    /** Stops the attempts past their deadline (called every few milliseconds by the worker). */
    void checkTimeouts(long nowNanos) {
        runs.checkTimeouts(nowNanos);
    }

    /** The leases of the runs in progress, for the heartbeat. */
    List<FetchedTask> leases() {
        return runs.leases();
    }

    /** The heartbeat found these of the {@code sent} leases gone: see {@link RunTable#leasesLost}. */
    void leasesLost(List<FetchedTask> sent, List<RunStore.LostLease> lost) {
        runs.leasesLost(sent, lost);
    }

    int runningCount() {
        return runs.size();
    }

    int busySlots() {
        return busySlots.get();
    }

    /** Step 1 of a graceful stop: take no more tasks (finished runs are still recorded). */
    void stopFetching() {
        state.stopFetching();
        wakeRequests.release();
        if (waiter != null) {
            waiter.interrupt();
        }
        if (blocking != null) {
            blocking.close();
        }
        pump();
    }

    /** Step 2: let running tasks finish until {@code deadlineNanos}; true when all did. */
    boolean awaitRuns(long deadlineNanos) throws InterruptedException {
        return runs.awaitRuns(deadlineNanos);
    }

    /** Step 3: stop the runs still going; each hands its task back to the queue. */
    void handBackRunning(Duration wait) throws InterruptedException {
        runs.handBackRunning(wait);
    }

    /** Step 4: record what is left to record, then stop the pump; last, stop this task's threads and wait for them. */
    void stopPump() throws InterruptedException {
        long deadline = System.nanoTime() + Timeouts.LAST_RECORDS_WAIT.toNanos();
        while ((!completions.isEmpty() || state.inFlight() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        pumping = false;
        threads.stop(deadline);   // results being recorded alone get the rest of that time
        if (waiter != null) {
            waiter.join(Timeouts.WAITER_EXIT_WAIT);   // interrupted in step 1, its connection closed
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
