package dev.taskpool.worker.exec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.connect.RedisFull;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.run.PresenceStore;
import dev.taskpool.worker.runtime.AppRuntime;
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
 * so once per interval. The writes themselves are {@link PresenceStore}'s.
 */
final class Presence {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    private final AppRuntime runtime;
    private final PresenceStore store;
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
        this.store = new PresenceStore(runtime.redis());
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
            String worker = settings.workerId();
            String json = record.toString();
            AtomicBoolean full = new AtomicBoolean();
            CompletableFuture<Object> recorded = orWhenFull(store.writeRecord(worker, json, recordLife()), full,
                    () -> store.writeRecordByScript(worker, json, recordLife()));
            CompletableFuture<Object> seen = orWhenFull(store.markSeen(worker, now), full,
                    () -> store.markSeenByScript(worker, now));
            CompletableFuture.allOf(recorded, seen).thenRun(() -> {
                if (!full.get()) {
                    redisFull.succeeded();
                }
            });
            CompletableFuture.allOf(recorded, seen)
                    .thenCompose(ignored -> store.pruneDead(now - recordLife()))
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

    void clear() {
        store.clear(settings.workerId());
    }
}
