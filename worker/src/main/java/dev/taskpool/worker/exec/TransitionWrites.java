package dev.taskpool.worker.exec;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.TransitionResult;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transitions a run records on its own (a retry, a result whose batched round trip failed),
 * tried again while Redis is unreachable (a restart, a failover) for up to one lease period; past
 * that the lease has lapsed and the recoverer takes over. One per task kind: its failures are
 * logged once per interval for the kind, not once per run and try (in an outage every run in
 * flight lands here).
 */
final class TransitionWrites {
    private static final Logger log = LoggerFactory.getLogger(TransitionWrites.class);

    private final String task;
    private final RunStore store;
    private final Duration lease;
    private final RateLimitedLog failures = new RateLimitedLog(log, "recording a run's transition", RateLimitedLog.INTERVAL);

    TransitionWrites(String task, RunStore store, Duration lease) {
        this.task = task;
        this.store = store;
        this.lease = lease;
    }

    /** Sends {@code write} until Redis answers or one lease period has passed; then throws its last error. */
    TransitionResult persist(String what, long id, Supplier<CompletableFuture<TransitionResult>> write) {
        long deadline = System.nanoTime() + lease.toNanos();
        long backoff = 100;
        while (true) {
            try {
                TransitionResult result = store.await(write.get(), what + " task " + task + " #" + id);
                failures.succeeded();
                return result;
            } catch (TaskpoolException e) {
                if (System.nanoTime() + backoff * 1_000_000 > deadline || Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                failures.failed("task " + task + ", " + what + " #" + id, e);
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
}
