package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.support.TestRedis;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** `taskpool bench --json` prints exactly one JSON line with the documented fields (no timing asserted). */
class BenchCommandTest {
    @ParameterizedTest
    @ValueSource(strings = {"java", "js"})
    void benchPrintsOneJsonLineWithItsFields(String processor) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = TaskpoolCommand.commandLine().execute("bench", "--tasks", "300", "--concurrency", "8", "--processor",
                    processor, "--latency-samples", "5", "--json", "--redis", TestRedis.uri());
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8).trim();
        assertEquals(0, code, printed);
        assertEquals(1, printed.lines().count(), printed);
        JsonNode result = Json.read(printed, "bench output");
        for (String field : new String[] {"enqueue_per_s", "process_per_s", "latency_p50_ms", "latency_p99_ms",
                "redis_commands_per_task", "bytes_per_finished_task"}) {
            assertTrue(result.has(field), field + " in " + printed);
        }
        assertEquals(300, result.get("tasks").asInt());
        assertTrue(result.get("process_per_s").asDouble() > 0);
        assertTrue(result.get("redis_commands_per_task").asDouble() > 5, "every task went through Redis: " + printed);
    }
}
