package dev.taskpool.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import java.util.Locale;

/** The figures of one benchmark run. */
public record BenchResult(String processor, int tasks, int concurrency, int workers, double enqueuePerSecond, double processPerSecond,
                   double latencyP50Ms, double latencyP99Ms, double redisCommandsPerTask, double roundTripsPerTask,
                   double bytesPerFinishedTask, long workerHeapBytes, int warmup, String hostJit) {

    public ObjectNode toJson() {
        ObjectNode node = Json.NODES.objectNode();
        node.put("enqueue_per_s", Math.round(enqueuePerSecond));
        node.put("process_per_s", Math.round(processPerSecond));
        node.put("latency_p50_ms", round(latencyP50Ms));
        node.put("latency_p99_ms", round(latencyP99Ms));
        node.put("redis_commands_per_task", round(redisCommandsPerTask));
        node.put("bytes_per_finished_task", Math.round(bytesPerFinishedTask));
        node.put("round_trips_per_task", round(roundTripsPerTask));
        node.put("processor", processor);
        node.put("tasks", tasks);
        node.put("concurrency", concurrency);
        node.put("workers", workers);
        node.put("worker_heap_bytes", workerHeapBytes);
        node.put("warmup", warmup);
        node.put("host_jit", hostJit);
        return node;
    }

    public String toTable() {
        return String.format(Locale.ROOT, """
                taskpool bench: %d tasks, %s processor, %d worker(s) at concurrency %d, %d warm-up tasks, host JIT %s
                  enqueue/s                    %,.0f
                  process/s                    %,.0f
                  add->start latency p50       %.2f ms   (low load, one task at a time)
                  add->start latency p99       %.2f ms
                  Redis commands per task      %.2f      (INFO commandstats, whole life: add, fetch, finish, events)
                  script round trips per task  %.3f
                  bytes per finished task kept %,.0f
                  worker heap after the run    %,d bytes
                """, tasks, processor, workers, concurrency, warmup, hostJit, enqueuePerSecond, processPerSecond, latencyP50Ms, latencyP99Ms,
                redisCommandsPerTask, roundTripsPerTask, bytesPerFinishedTask, workerHeapBytes);
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
