package dev.taskpool.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import java.util.List;
import java.util.Locale;

/**
 * The figures of one benchmark run.
 *
 * @param kinds                 how many task kinds ran at once (the N tasks and the concurrency split over them)
 * @param shards                one entry per Redis master (one for a standalone Redis)
 * @param adds                  how the tasks were enqueued: "bulk" (batches of 1,000), "single" (one per client call) or
 *                              "async" (one per addAsync call, from one thread)
 * @param inFlight              for single and async adds, the client calls in flight at once (0 for bulk)
 * @param redisCpuMicrosPerAdd  Redis CPU of the enqueue phase alone, per task, µs
 * @param redisCommandsPerAdd   Redis commands of the enqueue phase alone, per task (inside scripts included)
 * @param clientCpuMicrosPerAdd the benchmark JVM's CPU during the enqueue phase (no worker runs then), per task, µs:
 *                              the client side of an add, its JIT compilation and GC included
 * @param processFromStartPerSecond tasks per second from the worker's start (its construction, as BullMQ's peer
 *                              times its Worker) to the last finish; process/s starts at the first task's start
 * @param workerCpuMicrosPerTask this JVM's CPU from the worker's start to the last success, per task, µs (JIT, GC
 *                              and the benchmark's own polling included); NaN when worker processes did the work
 * @param flow                  the flow controls the kinds ran under ({@link BenchFlow#describe()}: "none" for plain kinds)
 */
public record BenchResult(String processor, int tasks, int concurrency, int workers, double enqueuePerSecond, double processPerSecond,
                   double latencyP50Ms, double latencyP99Ms, double redisCommandsPerTask, double roundTripsPerTask,
                   double bytesPerFinishedTask, long workerHeapBytes, int warmup, String hostJit, int kinds,
                   double redisCpuMicrosPerTask, List<Shard> shards, String adds, int inFlight,
                   double redisCpuMicrosPerAdd, double redisCommandsPerAdd, double clientCpuMicrosPerAdd,
                   double processFromStartPerSecond, double workerCpuMicrosPerTask, String flow) {

    /**
     * What one Redis master did during the run (from the enqueue to the end of the drain).
     *
     * @param node       the master's address
     * @param kinds      the benchmark's task kinds whose slot this master serves
     * @param tasks      the tasks of those kinds
     * @param cpuMicros  Redis CPU (used_cpu_sys + used_cpu_user) the master spent, µs
     * @param commands   commands it executed (INFO commandstats), less the benchmark's own reads
     */
    public record Shard(String node, List<String> kinds, long tasks, long cpuMicros, long commands) {
        /** Redis CPU µs per task of this shard's kinds; NaN when no kind lives here. */
        public double cpuMicrosPerTask() {
            return tasks == 0 ? Double.NaN : (double) cpuMicros / tasks;
        }

        /** Commands per task of this shard's kinds; NaN when no kind lives here. */
        public double commandsPerTask() {
            return tasks == 0 ? Double.NaN : (double) commands / tasks;
        }

        ObjectNode toJson() {
            ObjectNode node = Json.NODES.objectNode();
            node.put("node", this.node);
            kinds.forEach(node.putArray("kinds")::add);
            node.put("tasks", tasks);
            node.put("redis_cpu_us", cpuMicros);
            putOrNull(node, "redis_cpu_us_per_task", cpuMicrosPerTask());
            putOrNull(node, "commands_per_task", commandsPerTask());
            return node;
        }

        private static void putOrNull(ObjectNode node, String field, double value) {
            if (Double.isNaN(value)) {
                node.putNull(field);
            } else {
                node.put(field, round(value));
            }
        }
    }

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
        node.put("kinds", kinds);
        node.put("redis_cpu_us_per_task", round(redisCpuMicrosPerTask));
        node.put("adds", adds);
        node.put("in_flight", inFlight);
        node.put("redis_cpu_us_per_add", round(redisCpuMicrosPerAdd));
        node.put("redis_commands_per_add", round(redisCommandsPerAdd));
        node.put("client_cpu_us_per_add", round(clientCpuMicrosPerAdd));
        node.put("process_from_start_per_s", Math.round(processFromStartPerSecond));
        node.put("flow", flow);
        if (Double.isNaN(workerCpuMicrosPerTask)) {
            node.putNull("worker_cpu_us_per_task");
        } else {
            node.put("worker_cpu_us_per_task", round(workerCpuMicrosPerTask));
        }
        shards.forEach(shard -> node.withArray("shards").add(shard.toJson()));
        return node;
    }

    public String toTable() {
        StringBuilder perShard = new StringBuilder(String.format(Locale.ROOT,
                "  Redis CPU per task           %.1f µs   (INFO cpu, sys + user, all masters)%n", redisCpuMicrosPerTask));
        for (Shard shard : shards) {
            perShard.append(String.format(Locale.ROOT, "  shard %-22s %,d tasks of %s: %,.0f ms CPU, %s µs per task, %s commands per task%n",
                    shard.node(), shard.tasks(), shard.kinds().isEmpty() ? "no kind" : String.join(", ", shard.kinds()),
                    shard.cpuMicros() / 1000.0,
                    Double.isNaN(shard.cpuMicrosPerTask()) ? "-" : String.format(Locale.ROOT, "%.1f", shard.cpuMicrosPerTask()),
                    Double.isNaN(shard.commandsPerTask()) ? "-" : String.format(Locale.ROOT, "%.2f", shard.commandsPerTask())));
        }
        return String.format(Locale.ROOT, """
                taskpool bench: %d tasks of %d kind(s), %s processor, %d worker(s) at concurrency %d, %d warm-up tasks, host JIT %s
                  flow controls                %s
                  enqueue/s                    %,.0f      (%s)
                  Redis CPU per add            %.1f µs   (enqueue phase alone, INFO cpu; %.2f commands per add)
                  client CPU per add           %.1f µs   (this JVM during the enqueue phase, JIT and GC included)
                  process/s                    %,.0f      (%,.0f from the worker's start)
                  worker CPU per task          %s µs   (this JVM from the worker's start to the last success)
                  add->start latency p50       %.2f ms   (low load, one task at a time)
                  add->start latency p99       %.2f ms
                  Redis commands per task      %.2f      (INFO commandstats, whole life: add, fetch, finish, events)
                  script round trips per task  %.3f
                  bytes per finished task kept %,.0f
                  worker heap after the run    %,d bytes
                """, tasks, kinds, processor, workers, concurrency, warmup, hostJit, flow, enqueuePerSecond,
                switch (adds) {
                    case "single" -> "single adds through the Java client, " + inFlight + " callers";
                    case "async" -> "single adds through the Java client's addAsync, " + inFlight + " in flight from one thread";
                    default -> "bulk adds of 1,000";
                },
                redisCpuMicrosPerAdd, redisCommandsPerAdd, clientCpuMicrosPerAdd, processPerSecond, processFromStartPerSecond,
                Double.isNaN(workerCpuMicrosPerTask) ? "-" : String.format(Locale.ROOT, "%.1f", workerCpuMicrosPerTask), latencyP50Ms, latencyP99Ms,
                redisCommandsPerTask, roundTripsPerTask, bytesPerFinishedTask, workerHeapBytes) + perShard;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
