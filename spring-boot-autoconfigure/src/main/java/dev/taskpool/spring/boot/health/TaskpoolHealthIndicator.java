package dev.taskpool.spring.boot.health;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.spring.boot.TaskpoolWorkerLifecycle;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code taskpool} in the application's health: UP while Redis answers a PING through the client
 * within {@link #PING_TIMEOUT}, DOWN with the error when it does not. The worker is reported, never
 * judged: an application without a worker ({@code taskpool.worker.enabled=false}, the default) is as
 * healthy as one with, since adding and reading tasks need only Redis.
 */
public class TaskpoolHealthIndicator implements HealthIndicator {
    /** Short enough for a probe's own timeout (Kubernetes' default is 1 s per probe, often raised), long enough for a busy Redis. */
    static final Duration PING_TIMEOUT = Duration.ofSeconds(2);

    private final TaskpoolClient client;
    private final ObjectProvider<TaskpoolWorkerLifecycle> worker;

    public TaskpoolHealthIndicator(TaskpoolClient client, ObjectProvider<TaskpoolWorkerLifecycle> worker) {
        this.client = client;
        this.worker = worker;
    }

    @Override
    public Health health() {
        Health.Builder health = ping();
        health.withDetail("redis", client.operations().redisDescription());
        TaskpoolWorkerLifecycle lifecycle = worker.getIfAvailable();
        health.withDetail("workerEnabled", lifecycle != null);
        if (lifecycle != null) {
            lifecycle.worker().ifPresent(running -> health.withDetail("workerId", running.workerId()));
            health.withDetail("workerRunning", lifecycle.isRunning()).withDetail("runningTasks", lifecycle.runningCount());
        }
        return health.build();
    }

    private Health.Builder ping() {
        try {
            Duration took = client.operations().ping(PING_TIMEOUT);
            return Health.up().withDetail("pingMillis", took.toMillis());
        } catch (RuntimeException e) {
            return Health.down(e);
        }
    }
}
