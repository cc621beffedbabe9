package dev.taskpool.worker.exec;

import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runs of one task kind in progress in this worker, by task id, and everything that reaches
 * them from outside: their start, the deadline check, the heartbeat's leases and lost leases, an
 * operator's cancel, and a stopping worker's hand-back. A run leaves the table itself
 * ({@link RunHost#ended}).
 */
final class RunTable {
    private static final Logger log = LoggerFactory.getLogger(TaskConsumer.class);   // (the kind's log, as before the split)
    private static final Duration RECENT_CANCEL = Duration.ofSeconds(5);

    private final RunKind kind;
    private final String task;
    private final RunHost host;
    /**
     * The runs in progress, by task id: at most one run per id holds this worker's lease of it, the
     * newest (a fetch of an id this worker already runs means the older run's lease is gone). A run
     * leaves only itself ({@code remove(id, run)}), never a newer run of the same id.
     */
    private final Map<Long, TaskRun> running = new ConcurrentHashMap<>();
    /** Cancels of runs not (yet) here, by "id token", with when they came (nanoTime). */
    private final Map<String, Long> recentCancels = new ConcurrentHashMap<>();

    RunTable(RunKind kind, RunHost host) {
        this.kind = kind;
        this.task = kind.definition().id();
        this.host = host;
    }

    /** Starts a run of a fetched task on a run thread, in the slot the fetch took for it. */
    void start(FetchedTask fetched) {
        TaskRun run = new TaskRun(fetched, kind, host);
        TaskRun superseded = running.put(fetched.id(), run);
        // Redis gave this worker the id again, so the older run's lease is gone (it expired and the
        // task was recovered, or an operator canceled and retried it): that run stops (unless it was
        // stopped already) and records nothing. An older run still recording its retry is not
        // stopped: that retry is what let the task be fetched again, and the run leaves by itself; nor is
        // one whose result is in Redis already (ended, or running its handler) and not yet gone from here.
        if (superseded != null && superseded.holdsLease() && !superseded.isRecordingRetry()
                && superseded.stop(StopOrder.LEASE_LOST)) {
            log.warn("task {} #{}: fetched again while an older run of it is still here; stopping that run", task,
                    fetched.id());
        }
        Long canceledAt = recentCancels.isEmpty() ? null : recentCancels.remove(fetched.id() + " " + fetched.token());
        if (canceledAt != null && System.nanoTime() - canceledAt <= RECENT_CANCEL.toNanos()) {
            run.stop(StopOrder.CANCELED);   // it starts, sees the order and leaves, recording nothing
        }
        kind.threads().startRun(run);
    }

    /** The run is over for this worker: it leaves the table, unless a newer run of its id replaced it. */
    void ended(TaskRun run) {
        running.remove(run.id(), run);
    }

    /**
     * An operator canceled task {@code id}, whose lease was {@code token}: the run holding it here
     * stops within the time its script takes to notice an interrupt. Returns whether one stopped.
     */
    boolean canceled(long id, String token) {
        TaskRun run = running.get(id);
        if (run != null) {
            return run.canceled(token);
        }
        // The message may come before the round trip that fetched the run has been handled here:
        // remembered briefly, the run is stopped as it starts. (A token is never given twice for a
        // task, not even after an operator's retry, so this memory can only ever stop that run.)
        long now = System.nanoTime();
        recentCancels.values().removeIf(at -> now - at > RECENT_CANCEL.toNanos());
        recentCancels.put(id + " " + token, now);
        return false;
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
     * The heartbeat found these of the {@code sent} leases gone: the runs holding them stop, unless
     * the token is not theirs or they have just spent the lease themselves (see
     * {@link TaskRun#leaseLost}). A run an operator canceled stops as canceled, and is logged so:
     * its cancel message may come after the heartbeat, or never (pub/sub drops messages in a
     * reconnect).
     */
    void leasesLost(List<FetchedTask> sent, List<RunStore.LostLease> lost) {
        // One lease per id was sent (the table holds one run per id), so a lost id names the lease
        // it lost; the run checks that the token is still its own.
        Map<Long, FetchedTask> sentById = new HashMap<>();
        sent.forEach(lease -> sentById.put(lease.id(), lease));
        for (RunStore.LostLease gone : lost) {
            FetchedTask lease = sentById.get(gone.id());
            TaskRun run = lease == null ? null : running.get(gone.id());
            if (run == null) {
                continue;
            }
            if (gone.canceled()) {
                if (run.canceled(lease.token())) {
                    log.info("task {} #{}: {} (its lease is gone); stopping its run", task, gone.id(), gone.canceledAs());
                }
            } else if (run.leaseLost(lease.token())) {
                log.warn("task {} #{}: lease lost (another worker recovered it); stopping this run", task, gone.id());
            }
        }
    }

    int size() {
        return running.size();
    }

    /** Graceful stop, step 2: lets the runs finish until {@code deadlineNanos}; true when all did. */
    boolean awaitRuns(long deadlineNanos) throws InterruptedException {
        while (!running.isEmpty() && System.nanoTime() < deadlineNanos) {
            Thread.sleep(20);
        }
        return running.isEmpty();
    }

    /** Graceful stop, step 3: stops the runs still going; each hands its task back to the queue. */
    void handBackRunning(Duration wait) throws InterruptedException {
        running.values().forEach(run -> run.stop(StopOrder.SHUTDOWN));
        long deadline = System.nanoTime() + wait.toNanos();
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        // Runs stuck in code that ignores interrupts: release their leases from here; if they
        // ever finish, their lease token no longer matches and their result is discarded.
        for (TaskRun run : running.values()) {
            if (run.isFinishing() || run.isRecordingRetry()) {
                log.error("task {} #{}: its result or its retry is being recorded, or its event handler is still running;"
                        + " leaving it", task, run.id());
            } else {
                log.error("task {} #{}: the run ignored its interrupt; handing it back anyway", task, run.id());
                run.handBack();
            }
            run.leave();
        }
    }
}
