package dev.taskpool.worker.exec;

import dev.taskpool.core.redis.FetchedTask;
import dev.taskpool.worker.runtime.AppRuntime;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extends the leases of this worker's running tasks every {@link WorkerSettings#heartbeatInterval()};
 * a run whose lease was taken over (it expired and another worker got the task, or an operator
 * canceled it) is stopped.
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
                consumer.leasesLost(leases, runtime.store().await(runtime.store().heartbeat(task, deadline, leases),
                        "extend the leases of " + task));
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
