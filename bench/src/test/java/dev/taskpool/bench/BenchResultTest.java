package dev.taskpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchResultTest {
    private static final BenchResult RESULT = new BenchResult("java", 3000, 10, 1, 1000, 900, 0, 0, 11.5, 0.1, 400, 1,
            0, "c1", 2, 120.5, List.of(
                    new BenchResult.Shard("127.0.0.1:7000", List.of("bench.ak0"), 2000, 200_000, 22_000),
                    new BenchResult.Shard("127.0.0.1:7001", List.of(), 0, 50_000, 300)), "single", 50, 30.25, 5.5, 41.5, 800, 55.25, "max_running 10");

    @Test
    void jsonCarriesEachShardAndAShardWithoutKindsHasNoPerTaskFigures() {
        JsonNode json = RESULT.toJson();
        assertEquals(120.5, json.get("redis_cpu_us_per_task").asDouble());
        assertEquals(2, json.get("kinds").asInt());
        JsonNode busy = json.get("shards").get(0);
        assertEquals("bench.ak0", busy.get("kinds").get(0).asText());
        assertEquals(100.0, busy.get("redis_cpu_us_per_task").asDouble(), "200,000 µs over 2,000 tasks");
        assertEquals(11.0, busy.get("commands_per_task").asDouble());
        JsonNode idle = json.get("shards").get(1);
        assertEquals(50_000, idle.get("redis_cpu_us").asLong(), "an idle shard's CPU is still reported");
        assertTrue(idle.get("redis_cpu_us_per_task").isNull(), "no per-task figure without tasks: " + idle);
        assertTrue(idle.get("commands_per_task").isNull(), idle.toString());
    }

    @Test
    void jsonSaysHowTheTasksWereAddedAndWhatTheAddsCostRedis() {
        JsonNode json = RESULT.toJson();
        assertEquals("single", json.get("adds").asText());
        assertEquals(50, json.get("in_flight").asInt());
        assertEquals(30.25, json.get("redis_cpu_us_per_add").asDouble());
        assertEquals(5.5, json.get("redis_commands_per_add").asDouble());
        assertEquals(41.5, json.get("client_cpu_us_per_add").asDouble());
        assertTrue(RESULT.toTable().contains("(single adds through the Java client, 50 callers)"), RESULT.toTable());
    }

    @Test
    void jsonCarriesTheDrainFromTheWorkersStartAndTheWorkersCpuPerTask() {
        JsonNode json = RESULT.toJson();
        assertEquals(800, json.get("process_from_start_per_s").asLong());
        assertEquals(55.25, json.get("worker_cpu_us_per_task").asDouble());
        BenchResult inOtherProcesses = new BenchResult("java", 3000, 10, 2, 1000, 900, 0, 0, 11.5, 0.1, 400, 1, 0, "c1", 1,
                120.5, List.of(), "bulk", 0, 30.25, 5.5, 41.5, 800, Double.NaN, "none");
        assertTrue(inOtherProcesses.toJson().get("worker_cpu_us_per_task").isNull(),
                "worker processes' CPU is not this JVM's: " + inOtherProcesses.toJson());
        assertTrue(RESULT.toTable().contains("worker CPU per task          55.3 µs"), RESULT.toTable());
    }

    @Test
    void theTableHasALinePerShard() {
        String table = RESULT.toTable();
        assertTrue(table.contains("shard 127.0.0.1:7000         2,000 tasks of bench.ak0: 200 ms CPU, 100.0 µs per task, 11.00 commands per task"),
                table);
        assertTrue(table.contains("shard 127.0.0.1:7001         0 tasks of no kind: 50 ms CPU, - µs per task, - commands per task"), table);
    }
}
