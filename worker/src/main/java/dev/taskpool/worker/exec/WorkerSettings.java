package dev.taskpool.worker.exec;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.UUID;

/**
 * How a worker process behaves around its runs.
 *
 * @param workerId          names this process in task hashes ({@code worker}) and lease tokens
 * @param lease             how long a fetched task stays this worker's without a heartbeat
 * @param heartbeatInterval how often running tasks' leases are extended (below {@code lease}; how the two
 *                          bound the heartbeat's wait for Redis: {@link Timeouts})
 * @param recoverInterval   how often this worker looks for expired leases (jittered ±20%)
 * @param shutdownGrace     how long a graceful stop lets running tasks finish before handing them back
 * @param idleBlock         how long an idle fetcher blocks on Redis per BLPOP before looking again
 * @param abandonAfter      how long a stopped processor that ignores its interrupt is waited for
 *                          before its thread is abandoned and its slot freed
 */
public record WorkerSettings(String workerId, Duration lease, Duration heartbeatInterval, Duration recoverInterval,
                             Duration shutdownGrace, Duration idleBlock, Duration abandonAfter) {

    public WorkerSettings {
        Timeouts.requireWorkable(lease, heartbeatInterval, recoverInterval, shutdownGrace, abandonAfter, idleBlock,
                Timeouts.Names.SETTINGS);
        if (workerId == null || workerId.isBlank() || workerId.contains("/")) {
            throw new IllegalArgumentException("a worker id must be non-empty and contain no '/', got '" + workerId + "'");
        }
    }

    /** Defaults: a dead worker's tasks run again within lease + recover interval, about 15 s. */
    public static WorkerSettings defaults() {
        return new WorkerSettings(defaultWorkerId(), Duration.ofSeconds(10), Duration.ofSeconds(3),
                Duration.ofSeconds(4), Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    public WorkerSettings withWorkerId(String id) {
        return new WorkerSettings(id, lease, heartbeatInterval, recoverInterval, shutdownGrace, idleBlock, abandonAfter);
    }

    public WorkerSettings withLease(Duration newLease, Duration newHeartbeat) {
        return new WorkerSettings(workerId, newLease, newHeartbeat, recoverInterval, shutdownGrace, idleBlock, abandonAfter);
    }

    public WorkerSettings withRecoverInterval(Duration interval) {
        return new WorkerSettings(workerId, lease, heartbeatInterval, interval, shutdownGrace, idleBlock, abandonAfter);
    }

    public WorkerSettings withShutdownGrace(Duration grace) {
        return new WorkerSettings(workerId, lease, heartbeatInterval, recoverInterval, grace, idleBlock, abandonAfter);
    }

    public WorkerSettings withAbandonAfter(Duration wait) {
        return new WorkerSettings(workerId, lease, heartbeatInterval, recoverInterval, shutdownGrace, idleBlock, wait);
    }

    /** host-pid-random: unique per process, readable in {@code redis-cli HGETALL}. */
    static String defaultWorkerId() {
        String host = HostName.get();
        String pid = Long.toString(ManagementFactory.getRuntimeMXBean().getPid());
        return (host + "-" + pid + "-" + UUID.randomUUID().toString().substring(0, 6)).replace('/', '-');
    }
}
