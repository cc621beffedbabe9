package dev.taskpool.worker.exec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.redis.Keys;
import dev.taskpool.worker.runtime.AppRuntime;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells Redis that this worker is alive: {@code taskpool:worker:<id>} (JSON, expiring three
 * leases after the last heartbeat) and its score in {@code taskpool:workers} (last seen, epoch
 * ms). A graceful stop clears both; a dead worker's record expires by itself, and any worker
 * removes from {@code taskpool:workers} the members whose record is gone. Presence is
 * informational: when Redis refuses it (full, unreachable) the worker goes on and says so once per
 * interval. Single-key commands only: these keys have no hash tag.
 */
final class Presence {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final List<String> tasks;
    private final int slots;
    private final IntSupplier running;
    private final long startedAt;
    private final RateLimitedLog failures = new RateLimitedLog(log, "recording this worker's presence", RateLimitedLog.INTERVAL);

    Presence(AppRuntime runtime, WorkerSettings settings, List<String> tasks, int slots, IntSupplier running) {
        this.runtime = runtime;
        this.settings = settings;
        this.tasks = tasks;
        this.slots = slots;
        this.running = running;
        this.startedAt = runtime.clock().millis();
    }

    /** Records this worker's presence and prunes dead workers; never throws, never waits on Redis. */
    void announce() {
        long now = runtime.clock().millis();
        ObjectNode record = Json.NODES.objectNode();
        record.put("id", settings.workerId());
        record.put("host", HostName.get());
        record.put("pid", ManagementFactory.getRuntimeMXBean().getPid());
        record.set("tasks", Json.toNode(tasks));
        record.put("running", running.getAsInt());
        record.put("slots", slots);
        record.put("started_at", startedAt);
        record.put("seen_at", now);
        try {
            var redis = runtime.redis().async();
            CompletableFuture<?> recorded = redis.set(Keys.worker(settings.workerId()), record.toString(),
                    SetArgs.Builder.px(recordLife())).toCompletableFuture();
            CompletableFuture<?> seen = redis.zadd(Keys.WORKERS, now, settings.workerId()).toCompletableFuture();
            CompletableFuture.allOf(recorded, seen)
                    .thenCompose(ignored -> pruneDeadWorkers(now))
                    .orTimeout(runtime.redis().commandTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)
                    .whenComplete((ignored, error) -> {
                        if (error == null) {
                            failures.succeeded();
                        } else {
                            failures.failed("worker " + settings.workerId() + "; it keeps running",
                                    error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                                            ? error.getCause() : error);
                        }
                    });
        } catch (RuntimeException e) {
            failures.failed("worker " + settings.workerId() + "; it keeps running", e);
        }
    }

    /** A worker's record lives three leases past its last heartbeat. */
    private long recordLife() {
        return settings.lease().multipliedBy(3).toMillis();
    }

    /**
     * Removes from {@code taskpool:workers} the workers not seen for longer than their record
     * lives (they died without clearing their presence) and whose record is indeed gone: a worker
     * with a longer lease than this one still has its record and stays.
     */
    private CompletableFuture<Void> pruneDeadWorkers(long now) {
        var redis = runtime.redis().async();
        return redis.zrangebyscore(Keys.WORKERS, Range.create(Double.NEGATIVE_INFINITY, (double) (now - recordLife())),
                        io.lettuce.core.Limit.create(0, 100))
                .toCompletableFuture()
                .thenCompose(stale -> CompletableFuture.allOf(stale.stream()
                        .map(worker -> redis.exists(Keys.worker(worker)).toCompletableFuture().thenCompose(alive -> alive > 0
                                ? CompletableFuture.completedFuture(0L)
                                : redis.zrem(Keys.WORKERS, worker).toCompletableFuture()))
                        .toArray(CompletableFuture[]::new)));
    }

    void clear() {
        var redis = runtime.redis().sync();
        redis.del(Keys.worker(settings.workerId()));
        redis.zrem(Keys.WORKERS, settings.workerId());
    }
}
