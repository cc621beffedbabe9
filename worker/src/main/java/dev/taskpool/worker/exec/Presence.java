package dev.taskpool.worker.exec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.redis.Keys;
import dev.taskpool.worker.runtime.AppRuntime;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells Redis that this worker is alive: {@code taskpool:worker:<id>} (JSON, expiring three
 * leases after the last heartbeat) and its score in {@code taskpool:workers} (last seen, epoch
 * ms). A graceful stop clears both; a dead worker's record expires by itself.
 */
final class Presence {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final List<String> tasks;
    private final IntSupplier running;
    private final long startedAt;

    Presence(AppRuntime runtime, WorkerSettings settings, List<String> tasks, IntSupplier running) {
        this.runtime = runtime;
        this.settings = settings;
        this.tasks = tasks;
        this.running = running;
        this.startedAt = runtime.clock().millis();
    }

    void announce() {
        long now = runtime.clock().millis();
        ObjectNode record = Json.NODES.objectNode();
        record.put("id", settings.workerId());
        record.put("host", System.getenv().getOrDefault("HOSTNAME", "?"));
        record.put("pid", ManagementFactory.getRuntimeMXBean().getPid());
        record.set("tasks", Json.toNode(tasks));
        record.put("running", running.getAsInt());
        record.put("started_at", startedAt);
        record.put("seen_at", now);
        try {
            var redis = runtime.redis().connection().async();
            redis.set(Keys.worker(settings.workerId()), record.toString(),
                    io.lettuce.core.SetArgs.Builder.px(settings.lease().multipliedBy(3).toMillis()));
            redis.zadd(Keys.WORKERS, now, settings.workerId());
        } catch (RuntimeException e) {
            log.debug("presence not recorded: {}", e.getMessage());
        }
    }

    void clear() {
        var redis = runtime.redis().connection().sync();
        redis.del(Keys.worker(settings.workerId()));
        redis.zrem(Keys.WORKERS, settings.workerId());
    }
}
