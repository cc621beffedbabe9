package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator commands with delayed tasks, against a real Redis: stats show the ready and the
 * delayed apart, list WAITING shows when each is due, get prints due_at, run-now runs one now (with
 * a worker) and refuses, in one line, a task that is not delayed.
 */
class DelayedCommandsTest {
    @TempDir
    Path dir;

    private TestApp app(String task) {
        return TestApp.in(dir).task(task, 1, 0, 0, 10, 100, "scripts.d.Work", "")
                .script("d", "function Work(n) { return n * 2; }");
    }

    private static Result ok(String... args) {
        Result result = execute(args);
        assertEquals(0, result.code(), String.join(" ", args) + " failed: " + result.err());
        return result;
    }

    private static String redis() {
        return TestRedis.uri();
    }

    @Test
    void statsListGetAndRunNowShowAndActOnDelayedTasks() {
        String task = TestRedis.uniqueTaskId("clidelayed");
        try (Harness harness = Harness.open(app(task).dir())) {
            long ready = harness.client.add(task, 1).id();
            long later = harness.client.addWith(task, AddOptions.delay(Duration.ofHours(3)), 2).id();
            long soon = harness.client.addWith(task, AddOptions.delay(Duration.ofMinutes(30)), 3).id();

            String row = ok("stats", "--redis", redis()).out().lines().filter(line -> line.startsWith(task + " ")).findFirst()
                    .orElseThrow();
            // TASK READY DELAYED RUNNING ...
            assertEquals(List.of(task, "1", "2", "0"), List.of(row.trim().split("\\s+")).subList(0, 4), row);
            JsonNode kind = null;
            for (JsonNode node : Json.read(ok("stats", "--json", "--redis", redis()).out(), "stats").path("kinds")) {
                if (node.path("task").asText().equals(task)) {
                    kind = node;
                }
            }
            assertTrue(kind != null && kind.path("waiting").asLong() == 3 && kind.path("ready").asLong() == 1
                    && kind.path("delayed").asLong() == 2, "stats --json adds ready and delayed: " + kind);

            List<String> lines = ok("list", task, "--redis", redis()).out().lines().toList();
            assertTrue(lines.getFirst().contains("DUE"), "a DUE column: " + lines.getFirst());
            List<String> order = lines.stream().skip(1).map(line -> line.trim().split("\\s+")[0]).toList();
            assertEquals(List.of(Long.toString(later), Long.toString(soon), Long.toString(ready)), order,
                    "the delayed latest due first, then the ready");
            assertTrue(lines.get(1).contains(" in 2h") || lines.get(1).contains(" in 3h"), lines.get(1));
            assertTrue(lines.get(3).contains(" ready "), lines.get(3));
            Result paged = ok("list", task, "--limit", "2", "--redis", redis());
            assertTrue(paged.out().contains("--after d"), "a cursor into the delayed part: " + paged.out());

            JsonNode got = Json.read(ok("get", task, Long.toString(soon), "--redis", redis()).out(), "get");
            assertTrue(got.path("due_at").asLong() > System.currentTimeMillis(), "get prints due_at: " + got);

            Result refused = execute("run-now", task, Long.toString(ready), "--redis", redis());
            assertEquals(1, refused.code());
            assertEquals(1, refused.err().strip().lines().count(), refused.err());
            assertTrue(refused.err().contains("is WAITING (ready): only a delayed task"), refused.err());

            harness.startWorker(Harness.FAST);
            assertEquals(TaskStatus.SUCCESS, harness.await(task, ready).status());
            JsonNode done = Json.read(ok("run-now", task, Long.toString(later), "--by", "ops", "--json", "--redis", redis()).out(),
                    "run-now --json");
            assertEquals("run-now", done.path("action").asText());
            assertEquals(TaskStatus.SUCCESS, harness.await(task, later).status(), "it ran, hours before its due time");
            assertEquals(TaskStatus.WAITING, harness.client.get(task, soon).orElseThrow().status());
            Result again = execute("run-now", task, Long.toString(later), "--redis", redis());
            assertEquals(1, again.code());
            assertTrue(again.err().contains("is SUCCESS"), again.err());
        }
    }
}
