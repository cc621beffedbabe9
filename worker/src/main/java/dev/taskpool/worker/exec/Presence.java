package dev.taskpool.worker.exec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.redis.Keys;
import dev.taskpool.core.redis.LuaScript;
import dev.taskpool.core.redis.RedisFull;
import dev.taskpool.worker.runtime.AppRuntime;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells Redis that this worker is alive: {@code taskpool:worker:<id>} (JSON, expiring three
 * leases after the last heartbeat) and its score in {@code taskpool:workers} (last seen, epoch
 * ms). A graceful stop clears both; a dead worker's record expires by itself, and any worker
 * removes from {@code taskpool:workers} the members whose record is gone. When Redis is full and
 * refuses SET and ZADD, both are written by a script it runs when full too (presence-1), so the
 * workers draining a full Redis stay visible; that Redis is full is logged once per interval.
 * Presence is informational: when Redis cannot take it (unreachable) the worker goes on and says
 * so once per interval. One key per command or script: these keys have no hash tag.
 */
final class Presence {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final Timeouts timeouts;
    private final List<String> tasks;
    private final int slots;
    private final IntSupplier running;
    private final long startedAt;
    private final RateLimitedLog failures = new RateLimitedLog(log, "recording this worker's presence", RateLimitedLog.INTERVAL);
    private final RateLimitedLog redisFull = new RateLimitedLog(log, "writing this worker's presence with SET and ZADD",
            RateLimitedLog.INTERVAL);

    Presence(AppRuntime runtime, WorkerSettings settings, Timeouts timeouts, List<String> tasks, int slots,
             IntSupplier running) {
        this.runtime = runtime;
        this.settings = settings;
        this.timeouts = timeouts;
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
            String key = Keys.worker(settings.workerId());
            String json = record.toString();
            AtomicBoolean full = new AtomicBoolean();
            CompletableFuture<Object> recorded = orWhenFull(redis.set(key, json, SetArgs.Builder.px(recordLife())), full,
                    () -> runtime.redis().scripts().run(LuaScript.PRESENCE, new String[] {key},
                            "record", json, Long.toString(recordLife())));
            CompletableFuture<Object> seen = orWhenFull(redis.zadd(Keys.WORKERS, now, settings.workerId()), full,
                    () -> runtime.redis().scripts().run(LuaScript.PRESENCE, new String[] {Keys.WORKERS},
                            "seen", Long.toString(now), settings.workerId()));
            CompletableFuture.allOf(recorded, seen).thenRun(() -> {
                if (!full.get()) {
                    redisFull.succeeded();
                }
            });
            CompletableFuture.allOf(recorded, seen)
                    .thenCompose(ignored -> pruneDeadWorkers(now))
                    .orTimeout(timeouts.replyWait().toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((ignored, error) -> {
                        if (error == null) {
                            failures.succeeded();
                        } else {
                            failures.failed("worker " + settings.workerId() + "; it keeps running",
                                    error instanceof CompletionException && error.getCause() != null
                                            ? error.getCause() : error);
                        }
                    });
        } catch (RuntimeException e) {
            failures.failed("worker " + settings.workerId() + "; it keeps running", e);
        }
    }

    /**
     * {@code write}, or, when Redis refuses it because it is full, the same write through the presence
     * script, which Redis runs when full too: the workers go on draining the queue then, and an
     * operator must still see them. That Redis is full is logged once per interval.
     */
    private CompletableFuture<Object> orWhenFull(CompletionStage<?> write, AtomicBoolean full,
                                                 Supplier<CompletableFuture<List<Object>>> script) {
        return write.toCompletableFuture().<Object>thenApply(reply -> reply).exceptionallyCompose(error -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (!RedisFull.refused(cause)) {
                return CompletableFuture.failedFuture(cause);
            }
            full.set(true);
            redisFull.failed("worker " + settings.workerId() + "; written by the presence script instead, which a"
                    + " full Redis runs, so the worker stays visible", cause);
            return script.get().thenApply(reply -> reply);
        });
    }

    /** A worker's record lives three leases past its last heartbeat ({@link Timeouts#presenceRecordLife()}). */
    private long recordLife() {
        return timeouts.presenceRecordLife().toMillis();
    }

    /**
     * Removes from {@code taskpool:workers} the workers not seen for longer than their record
     * lives (they died without clearing their presence) and whose record is indeed gone: a worker
     * with a longer lease than this one still has its record and stays.
     */
    private CompletableFuture<Void> pruneDeadWorkers(long now) {
        var redis = runtime.redis().async();
        return redis.zrangebyscore(Keys.WORKERS, Range.create(Double.NEGATIVE_INFINITY, (double) (now - recordLife())),
                        Limit.create(0, 100))
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
