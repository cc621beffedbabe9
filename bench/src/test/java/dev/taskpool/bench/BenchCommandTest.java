package dev.taskpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.TestRedis;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** `taskpool bench --json` prints exactly one JSON line with the documented fields (no timing asserted). */
class BenchCommandTest {
    @ParameterizedTest
    @ValueSource(strings = {"java", "js"})
    void benchPrintsOneJsonLineWithItsFields(String processor) {
        JsonNode result = bench("--tasks", "300", "--concurrency", "8", "--processor", processor, "--latency-samples", "5",
                "--redis", TestRedis.uri());
        for (String field : new String[] {"enqueue_per_s", "process_per_s", "latency_p50_ms", "latency_p99_ms",
                "redis_commands_per_task", "bytes_per_finished_task", "redis_cpu_us_per_task", "process_from_start_per_s",
                "worker_cpu_us_per_task"}) {
            assertTrue(result.has(field), field + " in " + result);
        }
        assertTrue(result.get("worker_cpu_us_per_task").asDouble() > 0, "the worker in this JVM spent CPU on the tasks: " + result);
        assertTrue(result.get("process_from_start_per_s").asDouble() <= result.get("process_per_s").asDouble(),
                "timed from the worker's start, the drain cannot be shorter than from the first task's start: " + result);
        assertEquals(300, result.get("tasks").asInt());
        assertTrue(result.get("process_per_s").asDouble() > 0);
        assertTrue(result.get("redis_commands_per_task").asDouble() > 5, "every task went through Redis: " + result);
        assertEquals(1, result.get("shards").size(), "a standalone Redis is one shard: " + result);
        JsonNode shard = result.get("shards").get(0);
        assertEquals(300, shard.get("tasks").asInt(), "the one shard ran every task: " + result);
        assertTrue(shard.get("redis_cpu_us_per_task").asDouble() > 0, "Redis spent CPU on the tasks: " + result);
    }

    /** Single adds go through the Java client one call each; the run still drains every task and reports the adds' Redis cost. */
    @ParameterizedTest
    @ValueSource(strings = {"single", "async"})
    void benchWithSingleAddsReportsHowTheTasksWereAddedAndTheirRedisCost(String adds) {
        JsonNode result = bench("--tasks", "400", "--concurrency", "8", "--adds", adds, "--in-flight", "7",
                "--latency-samples", "0", "--redis", TestRedis.uri());
        assertEquals(adds, result.get("adds").asText(), result.toString());
        assertEquals(7, result.get("in_flight").asInt(), result.toString());
        assertEquals(400, result.get("tasks").asInt());
        assertTrue(result.get("redis_cpu_us_per_add").asDouble() > 0, "Redis spent CPU on the adds: " + result);
        // One enqueue script call per task, each running several commands inside: far more than a bulk add's share.
        assertTrue(result.get("redis_commands_per_add").asDouble() >= 2, "every add ran its own script: " + result);
        assertTrue(result.get("redis_cpu_us_per_task").asDouble() >= result.get("redis_cpu_us_per_add").asDouble(),
                "the whole life costs at least what the add did: " + result);
    }

    @Test
    void bulkIsTheDefaultAndAnUnknownAddModeIsRefused() {
        JsonNode result = bench("--tasks", "50", "--concurrency", "2", "--latency-samples", "0", "--redis", TestRedis.uri());
        assertEquals("bulk", result.get("adds").asText(), result.toString());
        assertEquals(0, result.get("in_flight").asInt(), "in flight only applies to single adds: " + result);
        BenchRun.Result run = BenchRun.execute("bench", "--tasks", "10", "--adds", "one", "--redis", TestRedis.uri());
        assertTrue(run.code() != 0, "refused: " + run);
        assertTrue(run.err().contains("--adds must be bulk, single, virtual or async, got 'one'"), run.err());
        BenchRun.Result none = BenchRun.execute("bench", "--tasks", "10", "--adds", "single", "--in-flight", "0", "--redis", TestRedis.uri());
        assertTrue(none.code() != 0, "refused: " + none);
        assertTrue(none.err().contains("--in-flight must be at least 1"), none.err());
    }

    /** Under every flow control at once the run still drains every task, and says what the kind ran under. */
    @Test
    void benchUnderFlowControlsDrainsEveryTaskAndSaysWhichControls() {
        JsonNode result = bench("--tasks", "300", "--concurrency", "8", "--max-running", "3", "--rate", "100000/1",
                "--unique", "args", "--priority", "2", "--latency-samples", "0", "--redis", TestRedis.uri());
        assertEquals("max_running 3, rate 100000/1s, unique by args, half the adds at priority 2", result.get("flow").asText(),
                result.toString());
        assertEquals(300, result.get("tasks").asInt());
        JsonNode keyed = bench("--tasks", "200", "--concurrency", "8", "--unique", "key", "--priority", "1", "--adds", "async",
                "--latency-samples", "0", "--redis", TestRedis.uri());
        assertEquals("a unique key per add, half the adds at priority 1", keyed.get("flow").asText(), keyed.toString());
        assertEquals("none", bench("--tasks", "20", "--concurrency", "2", "--latency-samples", "0", "--redis", TestRedis.uri())
                .get("flow").asText());
    }

    @Test
    void aKeyPerAddNeedsSingleAdds() {
        BenchRun.Result run = BenchRun.execute("bench", "--tasks", "10", "--unique", "key", "--redis", TestRedis.uri());
        assertTrue(run.code() != 0, "refused: " + run);
        assertTrue(run.err().contains("a key names one task: use --adds single, virtual or async"), run.err());
    }

    /**
     * Three kinds on a 3-master Cluster: each lands on a master of its own, and each master reports
     * its kind's tasks, the CPU it spent on them and its commands per task; the totals add up.
     */
    @Test
    void benchWithThreeKindsOnAClusterReportsEveryShard() {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3, Duration.ofSeconds(5))) {
            JsonNode result = bench("--tasks", "600", "--concurrency", "9", "--kinds", "3", "--latency-samples", "0",
                    "--redis", cluster.uri());
            assertEquals(3, result.get("kinds").asInt(), result.toString());
            JsonNode shards = result.get("shards");
            assertEquals(3, shards.size(), "one entry per master: " + result);
            Set<String> kinds = new HashSet<>();
            long tasks = 0;
            for (JsonNode shard : shards) {
                assertEquals(1, shard.get("kinds").size(), "each master serves exactly one of the three kinds: " + shard);
                kinds.add(shard.get("kinds").get(0).asText());
                assertEquals(200, shard.get("tasks").asInt(), "a third of the tasks on each shard: " + shard);
                assertTrue(shard.get("redis_cpu_us").asLong() > 0, "each master spent CPU: " + shard);
                assertTrue(shard.get("redis_cpu_us_per_task").asDouble() > 0, "CPU per task on each master: " + shard);
                assertTrue(shard.get("commands_per_task").asDouble() > 5,
                        "each task of a kind ran its commands on that kind's master: " + shard);
                tasks += shard.get("tasks").asLong();
            }
            assertEquals(3, kinds.size(), "three different kinds: " + result);
            assertEquals(600, tasks, "the shards' tasks add up to N: " + result);
            assertTrue(result.get("redis_cpu_us_per_task").asDouble() > 0, result.toString());
        }
    }

    @Test
    void moreKindsThanConcurrencyIsRefusedWithTheReason() {
        BenchRun.Result run = BenchRun.execute("bench", "--tasks", "10", "--concurrency", "2", "--kinds", "3",
                "--redis", TestRedis.uri());
        assertTrue(run.code() != 0, "refused: " + run);
        assertTrue(run.err().contains("--kinds must be at least 1 and at most --tasks (10) and --concurrency (2)"), run.err());
    }

    private static JsonNode bench(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        all[all.length - 1] = "--json";
        BenchRun.Result run = BenchRun.execute(all);
        assertEquals(0, run.code(), run.out() + "\n" + run.err());
        assertEquals(1, run.out().lines().count(), run.out());
        return Json.read(run.out(), "bench output");
    }
}
