package dev.taskpool.worker.exec;

import dev.taskpool.core.redis.FetchedTask;
import dev.taskpool.worker.runtime.AppRuntime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extends the leases of this worker's running tasks every {@link WorkerSettings#heartbeatInterval()};
 * a run whose lease was taken over (it expired and another worker got the task) is stopped.
 */
final class Heartbeat implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final List<TaskConsumer> consumers;
    private final AppRuntime runtime;
    private final WorkerSettings settings;
    /** While Redis refuses (full, unreachable), one line per interval, not one per task per beat. */
    private final RateLimitedLog failures = new RateLimitedLog(log, "heartbeat", RateLimitedLog.INTERVAL);

    Heartbeat(List<TaskConsumer> consumers, AppRuntime runtime, WorkerSettings settings) {
        this.consumers = consumers;
        this.runtime = runtime;
        this.settings = settings;
    }

    @Override
    public void run() {
        boolean allRecorded = true;
        boolean anySent = false;
        for (TaskConsumer consumer : consumers) {
            List<FetchedTask> leases = consumer.leases();
            if (leases.isEmpty()) {
                continue;
            }
            anySent = true;
            String task = consumer.definition().id();
            try {
                long deadline = runtime.clock().millis() + settings.lease().toMillis();
                List<Long> lost = runtime.store().await(runtime.store().heartbeat(task, deadline, leases),
                        "extend the leases of " + task);
                // One lease per id was sent (the running map holds one run per id), so a lost id
                // names the lease it lost; the run checks that the token is still its own.
                Map<Long, FetchedTask> sent = new HashMap<>();
                leases.forEach(lease -> sent.put(lease.id(), lease));
                for (long id : lost) {
                    FetchedTask lease = sent.get(id);
                    if (lease != null && consumer.leaseLost(lease)) {
                        log.warn("task {} #{}: lease lost (another worker recovered it); stopping this run", task, id);
                    }
                }
            } catch (RuntimeException e) {
                allRecorded = false;
                failures.failed("task " + task, e);
            }
        }
        // A beat with no lease to extend did not reach Redis: it says nothing about whether Redis is back.
        if (anySent && allRecorded) {
            failures.succeeded();
        }
    }
}
