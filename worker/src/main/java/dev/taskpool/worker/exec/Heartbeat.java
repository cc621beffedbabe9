package dev.taskpool.worker.exec;

import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.worker.runtime.AppRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extends the leases of this worker's running tasks every {@link WorkerSettings#heartbeatInterval()};
 * a run whose lease was taken over (it expired and another worker got the task, or an operator
 * canceled it) is stopped.
 *
 * <p>Each kind's leases may live on another Redis node (a Cluster master per hash tag), and a
 * node that stops answering holds its reply for up to a command timeout (10 s by default), longer
 * than the default lease (10 s) minus the heartbeat (3 s). So a beat sends every kind's extension
 * first and then waits for the answers together, at most until the next beat is due: a kind whose
 * node has not answered yet holds up no other kind, and gets no new extension until its last one
 * is answered or given up after {@link Timeouts#heartbeatWait()}, early enough that the next one
 * goes out before the lease could lapse. An answer that comes after that is not read: Redis may
 * still have applied the extension, and the leases it would have named lost are found by the
 * next beat.
 */
final class Heartbeat implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final List<TaskConsumer> consumers;
    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final Timeouts timeouts;
    /** While Redis refuses (full, unreachable), one line per interval, not one per task per beat. */
    private final RateLimitedLog failures = new RateLimitedLog(log, "heartbeat", RateLimitedLog.INTERVAL);
    /** Each kind's last extension, by kind: true once Redis took it, false when it failed. */
    private final Map<String, CompletableFuture<Boolean>> lastSent = new ConcurrentHashMap<>();

    Heartbeat(List<TaskConsumer> consumers, AppRuntime runtime, WorkerSettings settings, Timeouts timeouts) {
        this.consumers = consumers;
        this.runtime = runtime;
        this.settings = settings;
        this.timeouts = timeouts;
    }

    @Override
    public void run() {
        long nextBeatAt = System.nanoTime() + settings.heartbeatInterval().toNanos();
        List<CompletableFuture<Boolean>> sent = new ArrayList<>();
        boolean anyUnanswered = false;
        for (TaskConsumer consumer : consumers) {
            List<FetchedTask> leases = consumer.leases();
            if (leases.isEmpty()) {
                continue;
            }
            String task = consumer.partition();
            CompletableFuture<Boolean> last = lastSent.get(task);
            if (last != null && !last.isDone()) {
                anyUnanswered = true;   // its node has not answered the last one yet: that one is still bounded
                continue;
            }
            CompletableFuture<Boolean> extension = extend(consumer, task, leases);
            lastSent.put(task, extension);
            sent.add(extension);
        }
        boolean allRecorded = awaitUntil(sent, nextBeatAt) && !anyUnanswered;
        // A beat with no lease to extend did not reach Redis: it says nothing about whether Redis is back.
        if (!sent.isEmpty() && allRecorded) {
            failures.succeeded();
        }
    }

    /** Sends the extension of one kind's leases; its answer (leases lost, or a failure) is handled when it comes. */
    private CompletableFuture<Boolean> extend(TaskConsumer consumer, String task, List<FetchedTask> leases) {
        long deadline = runtime.clock().millis() + settings.lease().toMillis();
        CompletableFuture<List<RunStore.LostLease>> reply;
        try {
            reply = runtime.runs().heartbeat(task, deadline, leases);
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        return runtime.runs().bounded(reply, "extend the leases of " + task, timeouts.heartbeatWait()).handle((lost, error) -> {
            if (error != null) {
                failures.failed("task " + task, error);
                return false;
            }
            consumer.leasesLost(leases, lost);
            return true;
        });
    }

    /** Waits for every extension sent until {@code nanoTime}; true when each was answered and taken by then. */
    private static boolean awaitUntil(List<CompletableFuture<Boolean>> sent, long nanoTime) {
        try {
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                    .get(Math.max(0, nanoTime - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return false;   // a node is slow or away: its answer is handled when it comes
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the worker is stopping
            return false;
        } catch (ExecutionException e) {
            log.error("heartbeat: handling an answer failed: {}", e.getCause().getMessage(), e.getCause());
            return false;
        }
        return sent.stream().allMatch(CompletableFuture::join);
    }
}
