package dev.taskpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.support.TestRedis;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `taskpool bench-flow` prints one JSON line per case, counted while the kind waits (no rate asserted). */
class FlowBenchCommandTest {
    @Test
    void eachCasePrintsWhatRedisExecutedWhileTheKindWaited() {
        BenchRun.Result run = BenchRun.execute("bench-flow", "--waits", "rate,cap,held", "--workers", "2", "--slots", "4",
                "--tasks", "20", "--rate", "2/60", "--max-running", "3", "--hold", "10s", "--window", "1s",
                "--redis", TestRedis.uri());
        assertEquals(0, run.code(), run.out() + "\n" + run.err());
        List<JsonNode> cases = run.out().lines().filter(line -> line.startsWith("{")).map(line -> Json.read(line, "bench-flow")).toList();
        assertEquals(List.of("rate", "cap", "held"), cases.stream().map(c -> c.get("wait").asText()).toList(), run.out());
        for (JsonNode result : cases) {
            assertEquals(0, result.get("starts_in_window").asInt(), "the kind waited through the window: " + result);
            assertTrue(result.get("commands_per_s").asDouble() >= 0, result.toString());
            assertTrue(result.has("per_command_per_s") && result.has("script_calls_per_s") && result.has("blpop_per_s")
                    && result.has("redis_cpu_ms_per_s"), result.toString());
            assertTrue(!result.get("per_command_per_s").has("info"), "its own INFO calls are left out: " + result);
        }
    }

    @Test
    void anUnknownCaseOrAHoldShorterThanTheWindowIsRefused() {
        BenchRun.Result unknown = BenchRun.execute("bench-flow", "--waits", "rate,busy", "--redis", TestRedis.uri());
        assertTrue(unknown.code() != 0, unknown.toString());
        assertTrue(unknown.err().contains("--waits takes idle, rate, cap and held, got 'busy'"), unknown.err());
        BenchRun.Result shortHold = BenchRun.execute("bench-flow", "--hold", "10s", "--window", "20s", "--redis", TestRedis.uri());
        assertTrue(shortHold.code() != 0, shortHold.toString());
        assertTrue(shortHold.err().contains("--hold longer than --window"), shortHold.err());
    }
}
