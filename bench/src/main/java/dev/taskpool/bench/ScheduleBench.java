package dev.taskpool.bench;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.core.run.PresenceStore;
import dev.taskpool.core.schedule.ScheduleOperations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Firings of every-second cron schedules over a window, with several {@code taskpool worker}
 * processes all trying to fire each one: how many tasks each fire time made (exactly one is the
 * promise), how many fire times in the window made none, and how late the task was added after its
 * fire time ({@code created_at − fire_at}, both by Redis' clock).
 */
final class ScheduleBench {
    record Options(String redisUri, int schedules, int workers, Duration window) {
    }

    private final Options options;
    private final RedisTls tls;

    ScheduleBench(Options options, RedisTls tls) {
        this.options = options;
        this.tls = tls;
    }

    Map<String, Object> run() throws IOException, InterruptedException {
        String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        String task = "bench.s" + suffix;
        List<String> scheduleIds = new ArrayList<>();
        for (int i = 0; i < options.schedules(); i++) {
            scheduleIds.add("bench-s" + suffix + "-" + i);
        }
        Path app = writeApp(task, scheduleIds);
        List<Process> processes = new ArrayList<>();
        try (RedisConnector redis = RedisConnector.connect(options.redisUri(), RedisConnector.DEFAULT_COMMAND_TIMEOUT, tls)) {
            ScheduleOperations schedules = new ScheduleOperations(redis);
            TaskOperations operations = new TaskOperations(redis);
            try {
                for (int i = 0; i < options.workers(); i++) {
                    processes.add(WorkerProcess.start(app, "bench-schedule-" + i, task, options.redisUri(), tls));
                }
                awaitWorkers(new PresenceStore(redis), redis);
                // Whole seconds after every worker is up: the window starts on a slot boundary.
                long from = (redis.clock().millis() / 1000 + 2) * 1000;
                long until = from + options.window().toMillis();
                while (redis.clock().millis() < until + 2000) {
                    Thread.sleep(100);
                }
                return count(new TaskReads(redis), operations, task, scheduleIds, from, until);
            } finally {
                for (Process process : processes) {
                    process.destroy();
                }
                for (Process process : processes) {
                    process.waitFor();
                }
                scheduleIds.forEach(schedules::remove);
                operations.erase(task);
            }
        }
    }

    private Map<String, Object> count(TaskReads reads, TaskOperations operations, String task, List<String> scheduleIds,
                                      long from, long until) {
        long added = operations.stats(task).addedTotal();
        Map<String, Map<Long, Integer>> bySchedule = new HashMap<>();
        List<Double> lags = new ArrayList<>();
        for (long id = 1; id <= added + 50; id++) {
            TaskInfo info = reads.get(task, id).orElse(null);
            if (info == null || info.schedule() == null || info.fireAt() < from || info.fireAt() >= until) {
                continue;
            }
            bySchedule.computeIfAbsent(info.schedule(), s -> new HashMap<>()).merge(info.fireAt(), 1, Integer::sum);
            lags.add((double) (info.createdAt() - info.fireAt()));
        }
        long slots = (until - from) / 1000;
        long tasks = 0;
        long duplicates = 0;
        long missing = 0;
        for (String id : scheduleIds) {
            Map<Long, Integer> fired = bySchedule.getOrDefault(id, Map.of());
            Set<Long> seen = new HashSet<>(fired.keySet());
            for (int count : fired.values()) {
                tasks += count;
                duplicates += count - 1;
            }
            for (long slot = from; slot < until; slot += 1000) {
                if (!seen.contains(slot)) {
                    missing++;
                }
            }
        }
        double[] sorted = lags.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("schedules", scheduleIds.size());
        out.put("workers", options.workers());
        out.put("window_s", slots);
        out.put("fire_times", slots * scheduleIds.size());
        out.put("tasks", tasks);
        out.put("duplicates", duplicates);
        out.put("fire_times_without_task", missing);
        out.put("firings_per_s", tasks / (double) slots);
        out.put("fire_to_add_p50_ms", sorted.length == 0 ? 0 : LatencyProbe.percentile(sorted, 50));
        out.put("fire_to_add_p99_ms", sorted.length == 0 ? 0 : LatencyProbe.percentile(sorted, 99));
        out.put("fire_to_add_max_ms", sorted.length == 0 ? 0 : sorted[sorted.length - 1]);
        return out;
    }

    private void awaitWorkers(PresenceStore presence, RedisConnector redis) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (presence.seenSince(redis.clock().millis() - 5000).stream().filter(id -> id.startsWith("bench-schedule-")).count()
                < options.workers()) {
            if (System.nanoTime() > deadline) {
                throw new TaskpoolException("the benchmark's worker processes did not start within 90 s");
            }
            Thread.sleep(100);
        }
    }

    private Path writeApp(String task, List<String> scheduleIds) throws IOException {
        Path app = Files.createTempDirectory("taskpool-bench-schedule-");
        app.toFile().deleteOnExit();
        Path definition = app.resolve("tasks/" + task.replace('.', '/') + ".yao");
        Files.createDirectories(definition.getParent());
        Files.writeString(definition, Json.write(Map.of("name", "schedule benchmark", "worker_nums", 8, "attempts", 0,
                "attempt_after", 0, "timeout", 60, "size", 1_000_000, "keep", 600, "process", "scripts.bench.Noop")));
        Files.createDirectories(app.resolve("scripts"));
        Files.writeString(app.resolve("scripts/bench.js"), "// The no-op processor of the benchmark.\nfunction Noop(id) { return id; }\n");
        Files.createDirectories(app.resolve("schedules"));
        for (String id : scheduleIds) {
            Files.writeString(app.resolve("schedules/" + id + ".sch.yao"),
                    Json.write(Map.of("name", "every second", "schedule", "*/1 * * * * *", "task", task)));
        }
        return app;
    }
}
