package dev.taskpool.worker.exec;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.redis.FetchedTask;
import dev.taskpool.core.redis.Keys;
import dev.taskpool.core.redis.TaskStore;
import dev.taskpool.core.redis.TransitionResult;
import dev.taskpool.worker.runtime.AppRuntime;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runs of one task in this worker process: {@code worker_nums} slots and a pump that talks
 * to Redis. Each round trip of the pump is one script call that ends every run that finished
 * since the last one and takes as many waiting tasks as there are free slots, so under load
 * acknowledgements and fetches are batched. The pump has no thread of its own: whoever makes work
 * for it (a run that ends, a round trip that comes back, the waiter) sends the next round trip. When nothing is waiting, a waiter thread blocks
 * on Redis (BLPOP on the task's wake list): an idle worker never polls in a loop.
 */
final class TaskConsumer {
    private static final Logger log = LoggerFactory.getLogger(TaskConsumer.class);
    private static final Duration ERROR_BACKOFF = Duration.ofSeconds(1);
    /** The most runs ended in one round trip (bounds the size of one script call). */
    private static final int MAX_BATCH = 500;
    /** Round trips in flight at once: Redis works on one while the runs that end gather into the next. */
    private static final int MAX_IN_FLIGHT = 2;

    private record PendingCompletion(TaskStore.Completion completion, CompletableFuture<TransitionResult> result) {
    }

    private final TaskDefinition definition;
    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final WorkerContext worker;
    private final Keys keys;
    private final Semaphore slots;
    private final ExecutorService runs;
    private final Map<Long, TaskRun> running = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<PendingCompletion> completions = new ConcurrentLinkedQueue<>();
    private final Semaphore wakeRequests = new Semaphore(0);
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final Map<Integer, Retry> retries = new ConcurrentHashMap<>();
    private volatile boolean fetching;
    private volatile boolean pumping;
    private volatile boolean fetchWanted = true;
    /** Counts the waiter's returns, so that an older round trip's "queue empty" cannot cancel a newer wake-up. */
    private final java.util.concurrent.atomic.AtomicLong wakeups = new java.util.concurrent.atomic.AtomicLong();
    private Thread waiter;
    private StatefulRedisConnection<String, String> blocking;

    TaskConsumer(TaskDefinition definition, AppRuntime runtime, WorkerContext worker) {
        this.definition = definition;
        this.runtime = runtime;
        this.settings = worker.settings();
        this.worker = worker;
        this.keys = Keys.of(definition.id());
        this.slots = new Semaphore(definition.workerNums());
        // Virtual run threads, one per slot and kept between runs rather than made per run: a
        // script context sets up per-thread state for every new thread that enters it, and an idle
        // thread that waits without a time limit costs no timer. Threads beyond the slots are made
        // only while an abandoned run's thread is still stuck, and end after a minute idle.
        this.runs = new java.util.concurrent.ThreadPoolExecutor(definition.workerNums(), Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
                new java.util.concurrent.SynchronousQueue<>(), Thread.ofVirtual().name("run-" + definition.id() + "-", 1).factory());
    }

    TaskDefinition definition() {
        return definition;
    }

    void start() {
        blocking = runtime.redis().newBlockingConnection();
        fetching = true;
        pumping = true;
        pump();
        waiter = Thread.ofPlatform().daemon().name("wait-" + definition.id()).start(this::waitLoop);
    }

    /**
     * Hands a finished run to the pump, which records it in its next round trip; the run's slot
     * is free from now on (the same round trip may fill it).
     */
    CompletableFuture<TransitionResult> submit(TaskStore.Completion completion) {
        CompletableFuture<TransitionResult> result = new CompletableFuture<>();
        completions.add(new PendingCompletion(completion, result));
        return result;
    }

    /** A run gives its slot back (when it ends, or when it hands its completion to the pump). */
    void releaseSlot() {
        slots.release();
        pump();
    }

    /**
     * Sends a round trip if there is something to send (finished runs to record, free slots to
     * fill) and fewer than {@link #MAX_IN_FLIGHT} are in flight; called by whoever may have made
     * work: a run that ends, a round trip that comes back, the waiter. There is no pump thread to
     * wake: the caller sends it, and while two round trips are in flight the runs that end meanwhile
     * gather into the next batch, which the first one back sends.
     */
    private void pump() {
        while (pumping) {
            if (!inFlight.tryAcquire()) {
                return;   // both in flight: the first one back pumps again
            }
            List<PendingCompletion> batch = new ArrayList<>();
            PendingCompletion next;
            while (batch.size() < MAX_BATCH && (next = completions.poll()) != null) {
                batch.add(next);
            }
            boolean wantRuns = fetching && slots.availablePermits() > 0 && (fetchWanted || !batch.isEmpty());
            int take = wantRuns ? slots.drainPermits() : 0;   // (another caller may have drained them first)
            if (!batch.isEmpty() || take > 0) {
                roundTrip(batch, take);
                continue;   // the other round trip may have something to send too
            }
            inFlight.release();
            if (fetching && slots.availablePermits() > 0 && !fetchWanted && inFlight.availablePermits() == MAX_IN_FLIGHT
                    && wakeRequests.availablePermits() == 0) {
                wakeRequests.release();   // let the waiter block on Redis until work arrives
            }
            // Work that came in between the look above and the release would wait for nobody: look again.
            if (completions.isEmpty() && !(fetching && fetchWanted && slots.availablePermits() > 0)) {
                return;
            }
        }
    }

    /**
     * Sends one round trip without waiting for it: while Redis runs it, the runs that end gather
     * into the next (at most {@link #MAX_IN_FLIGHT} round trips are in flight).
     */
    private void roundTrip(List<PendingCompletion> batch, int take) {
        long now = runtime.clock().millis();
        long wakeupsAtSend = wakeups.get();
        CompletableFuture<TaskStore.FinishResult> call;
        try {
            call = runtime.store().finish(definition.id(), settings.workerId(),
                    batch.stream().map(PendingCompletion::completion).toList(), take, now,
                    now + settings.lease().toMillis(), definition.keep());
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.orTimeout(runtime.redis().commandTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS).whenComplete((result, error) -> {
            if (error != null) {
                slots.release(take);
                batch.forEach(pending -> pending.result().completeExceptionally(error));
                if (pumping) {
                    log.warn("task {}: a round trip to Redis failed ({}); trying again in {}s", definition.id(),
                            error.getMessage(), ERROR_BACKOFF.toSeconds());
                }
                afterBackOff(() -> {
                    inFlight.release();
                    pump();
                });
                return;
            }
            try {
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).result().complete(result.ended().get(i));
                }
                List<FetchedTask> fetched = result.fetched();
                slots.release(take - fetched.size());
                if (take > 0 && fetched.size() < take && wakeups.get() == wakeupsAtSend) {
                    fetchWanted = false;   // fewer than asked for: the queue was empty (and no wake-up came since)
                } else if (take > 0 && fetched.size() == take) {
                    fetchWanted = true;
                }
                for (FetchedTask task : fetched) {
                    start(task);
                }
            } finally {
                inFlight.release();
                pump();
            }
        });
    }

    /** Runs {@code next} after {@link #ERROR_BACKOFF} (at once when the worker is stopping). */
    private void afterBackOff(Runnable next) {
        try {
            worker.timers().schedule(next, ERROR_BACKOFF.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            next.run();
        }
    }

    /** Blocks on Redis when asked to, then tells the pump to look again (a token arrived, or time passed). */
    private void waitLoop() {
        while (fetching) {
            try {
                wakeRequests.acquire();
                wakeRequests.drainPermits();
                if (!fetching) {
                    return;
                }
                blocking.sync().blpop(settings.idleBlock().toMillis() / 1000.0, keys.wake());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!fetching) {
                    return;
                }
                log.warn("task {}: waiting for work failed ({}); trying again in {}s", definition.id(), e.getMessage(),
                        ERROR_BACKOFF.toSeconds());
                sleepQuietly(ERROR_BACKOFF);
            }
            wakeups.incrementAndGet();
            fetchWanted = true;
            pump();
        }
    }

    private void start(FetchedTask task) {
        TaskRun run = new TaskRun(task, definition, runtime, worker, this, () -> running.remove(task.id()));
        running.put(task.id(), run);
        runs.execute(run);
    }

    /** A Resilience4j Retry for runs that have {@code runsLeft} runs left (they are reusable). */
    Retry retry(int runsLeft, java.util.function.Predicate<Throwable> retryOn) {
        return retries.computeIfAbsent(runsLeft, left -> Retry.of(definition.id() + "/" + left, RetryConfig.custom()
                .maxAttempts(left)
                .waitDuration(definition.attemptAfter())
                .retryOnException(retryOn)
                .build()));
    }

    /** Stops the attempts past their deadline (called every few milliseconds by the worker). */
    void checkTimeouts(long nowNanos) {
        for (TaskRun run : running.values()) {
            run.checkTimeout(nowNanos);
        }
    }

    /** The leases of the runs in progress, for the heartbeat. */
    List<FetchedTask> leases() {
        return running.values().stream().filter(TaskRun::holdsLease).map(TaskRun::lease).toList();
    }

    /**
     * The heartbeat found that this worker no longer holds the lease of run {@code id}: unless
     * the run has just handed its own result over (which spends the lease), another worker
     * recovered the task, and this run stops. Returns whether it was stopped.
     */
    boolean leaseLost(long id) {
        TaskRun run = running.get(id);
        if (run == null || run.isFinishing()) {
            return false;
        }
        run.stop(TaskRun.StopReason.LEASE_LOST);
        return true;
    }

    int runningCount() {
        return running.size();
    }

    /** Step 1 of a graceful stop: take no more tasks (finished runs are still recorded). */
    void stopFetching() {
        fetching = false;
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
        while (!running.isEmpty() && System.nanoTime() < deadlineNanos) {
            Thread.sleep(20);
        }
        return running.isEmpty();
    }

    /** Step 3: stop the runs still going; each hands its task back to the queue. */
    void handBackRunning(Duration wait) throws InterruptedException {
        running.values().forEach(run -> run.stop(TaskRun.StopReason.SHUTDOWN));
        long deadline = System.nanoTime() + wait.toNanos();
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        // Runs stuck in code that ignores interrupts: release their leases from here; if they
        // ever finish, their lease token no longer matches and their result is discarded.
        for (TaskRun run : running.values()) {
            FetchedTask lease = run.lease();
            log.error("task {} #{}: the run ignored its interrupt; handing it back anyway", lease.task(), lease.id());
            runtime.store().await(runtime.store().release(lease, runtime.clock().millis()), "hand a stuck task back");
        }
    }

    /** Step 4: record what is left to record, then stop the pump. */
    void stopPump() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while ((!completions.isEmpty() || inFlight.availablePermits() < MAX_IN_FLIGHT) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        pumping = false;
        runs.shutdownNow();
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
