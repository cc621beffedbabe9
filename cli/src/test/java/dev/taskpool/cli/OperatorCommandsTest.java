package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator commands as a user calls them, against a real Redis and a real worker: stats, list
 * (paged), watch, retry, cancel, pause, resume and delete; tables by default, --json for scripts,
 * and a refused action as one line on stderr.
 */
class OperatorCommandsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** A kind ({@code slots} worker_nums, no retry) whose script succeeds for n >= 0 (reporting progress n times) and fails for n < 0. */
    private TestApp app(String task, int slots) {
        return TestApp.in(dir)
                .task(task, slots, 0, 0, 10, 100, "scripts.ops.Work", "")
                .script("ops", """
                        function Work(id, n) {
                          if (n < 0) { throw new Error('bad input ' + n); }
                          for (let i = 1; i <= n; i++) { Progress(id, i, n, 'step ' + i + ' of ' + n); }
                          return { doubled: n * 2 };
                        }
                        """);
    }

    private static void assertOneLine(String line, Result result) {
        assertEquals(1, result.code(), "exit code; stderr: " + result.err());
        assertEquals("", result.out(), "nothing on stdout");
        assertEquals(line, result.err().strip(), "the one line on stderr");
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
    void statsAndListShowCountsWorkersAndPagesOfTasks() {
        String task = TestRedis.uniqueTaskId("opsstats");
        // One slot: the tasks finish in the order they were added, which the listing's order shows.
        try (Harness harness = Harness.open(app(task, 1).dir())) {
            String workerId = harness.startWorker().settings().workerId();
            List<Long> ids = new ArrayList<>();
            // one after the other, so that they finish in the order of their ids (listings are by finish time)
            for (int i = 1; i <= 5; i++) {
                long id = harness.add(task, i);
                ids.add(id);
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status());
            }
            long failing = harness.add(task, -1);
            assertEquals(TaskStatus.FAILURE, harness.await(task, failing).status());

            Result table = ok("stats", "--redis", redis());
            String row = table.out().lines().filter(line -> line.startsWith(task + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for " + task + " in:\n" + table.out()));
            // TASK READY DELAYED RUNNING SUCCEEDED FAILED RETRIED RECOVERED CANCELED PAUSED OLDEST DONE/S
            assertEquals(List.of(task, "0", "0", "0", "5", "1", "0", "0", "0", "no", "-"),
                    List.of(row.trim().split("\\s+")).subList(0, 11), "the kind's row: " + row);
            assertTrue(table.out().lines().anyMatch(line -> line.startsWith("TASK ") && line.contains("OLDEST WAIT")),
                    "a header row:\n" + table.out());
            assertTrue(table.out().lines().anyMatch(line -> line.startsWith("WORKER ") && line.contains("LAST SEEN")),
                    "the workers' header:\n" + table.out());
            assertTrue(table.out().lines().anyMatch(line -> line.startsWith(workerId + " ") && line.contains(task)),
                    "this worker with the kinds it serves:\n" + table.out());
            assertFalse(table.out().contains("\u001b["), "no colours when stdout is no terminal");

            JsonNode json = Json.read(ok("stats", "--json", "--redis", redis()).out(), "stats --json");
            JsonNode kind = null;
            for (JsonNode node : json.path("kinds")) {
                if (node.path("task").asText().equals(task)) {
                    kind = node;
                }
            }
            assertTrue(kind != null, "the kind in stats --json: " + json);
            assertEquals(5, kind.path("succeededTotal").asLong());
            assertEquals(1, kind.path("failedTotal").asLong());
            assertFalse(kind.path("paused").asBoolean());
            assertTrue(json.path("workers").size() >= 1, "live workers: " + json.path("workers"));

            // Paged, newest first: 5, 4 | 3, 2 | 1.
            Result first = ok("list", task, "--status", "success", "--limit", "2", "--redis", redis());
            assertEquals(List.of(ids.get(4), ids.get(3)), idsIn(first.out()), first.out());
            String more = first.out().lines().filter(line -> line.startsWith("more: ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no 'more:' line:\n" + first.out()));
            String cursor = more.substring(more.indexOf("--after ") + "--after ".length()).trim();
            Result second = ok("list", task, "--status", "SUCCESS", "--limit", "2", "--after", cursor, "--redis", redis());
            assertEquals(List.of(ids.get(2), ids.get(1)), idsIn(second.out()), second.out());

            JsonNode page = Json.read(ok("list", task, "--status", "failure", "--json", "--redis", redis()).out(), "list --json");
            assertEquals(1, page.path("tasks").size(), page.toString());
            assertEquals("FAILURE", page.path("tasks").get(0).path("status").asText());
            assertTrue(page.path("tasks").get(0).path("error").asText().contains("bad input -1"), page.toString());
            assertTrue(page.path("nextCursor").isNull(), "the last page has no cursor: " + page);
            Result failures = ok("list", task, "--status", "failure", "--redis", redis());
            assertTrue(failures.out().contains("bad input -1"), "the error in the table:\n" + failures.out());

            Result empty = ok("list", task, "--redis", redis());
            assertEquals("no WAITING task of " + task, empty.out());
        }
        Result badStatus = execute("list", task, "--status", "done", "--redis", redis());
        assertEquals(2, badStatus.code(), "a usage error, like the other commands'");
        assertTrue(badStatus.err().startsWith("taskpool: Invalid value for option '--status': 'done' is not a status: use waiting,"
                + " running, success or failure"), badStatus.err());
        Result unknown = execute("list", "no-such-kind-" + task, "--redis", redis());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().startsWith("taskpool: ") && unknown.err().contains("no-such-kind-" + task), unknown.err());
    }

    /** The ids in the first column of a table (the header and other lines aside). */
    private static List<Long> idsIn(String table) {
        List<Long> ids = new ArrayList<>();
        table.lines().map(String::trim).filter(line -> line.matches("\\d+\\s+(WAITING|RUNNING|SUCCESS|FAILURE).*"))
                .forEach(line -> ids.add(Long.parseLong(line.split("\\s+")[0])));
        return ids;
    }

    @Test
    void controlActionsChangeRedisAndRefusalsAreOneLine() {
        String task = TestRedis.uniqueTaskId("opsctl");
        try (Harness harness = Harness.open(app(task, 2).dir())) {
            // No worker yet: what is added waits.
            long waiting = harness.add(task, 1);
            Result canceled = ok("cancel", task, Long.toString(waiting), "--by", "alice", "--redis", redis());
            assertEquals("canceled task " + task + " #" + waiting + " (now FAILURE)", canceled.out());
            TaskInfo info = harness.client.get(task, waiting).orElseThrow();
            assertEquals(TaskStatus.FAILURE, info.status());
            assertTrue(info.error().contains("canceled") && info.error().contains("alice"), info.error());

            Result paused = ok("pause", task, "--by", "bob", "--json", "--redis", redis());
            JsonNode pausedJson = Json.read(paused.out(), "pause --json");
            assertEquals("pause", pausedJson.path("action").asText());
            JsonNode kind = kindIn(ok("stats", "--json", "--redis", redis()).out(), task);
            assertTrue(kind.path("paused").asBoolean(), kind.toString());
            assertEquals("bob", kind.path("pausedBy").asText());
            assertEquals("resumed " + task, ok("resume", task, "--redis", redis()).out());
            assertFalse(kindIn(ok("stats", "--json", "--redis", redis()).out(), task).path("paused").asBoolean());

            harness.startWorker();
            long failing = harness.add(task, -2);
            long done = harness.add(task, 0);
            assertEquals(TaskStatus.FAILURE, harness.await(task, failing).status());
            assertEquals(TaskStatus.SUCCESS, harness.await(task, done).status());

            assertOneLine("taskpool: task " + task + " " + done + " is SUCCESS: only a FAILURE task can be retried",
                    execute("retry", task, Long.toString(done), "--redis", redis()));
            assertOneLine("taskpool: retry needs an ID, or --failed for every failed task of " + task,
                    execute("retry", task, "--redis", redis()));
            assertOneLine("taskpool: retry takes an ID or --failed, not both",
                    execute("retry", task, "1", "--failed", "--redis", redis()));

            Result retried = ok("retry", task, Long.toString(failing), "--redis", redis());
            assertEquals("retried task " + task + " #" + failing + " (now WAITING)", retried.out());
            // The retry is one script: the task is WAITING when the command returns, so this awaits
            // its new run, which fails again (the input is still bad).
            TaskInfo again = harness.await(task, failing);
            assertEquals(TaskStatus.FAILURE, again.status());
            assertTrue(again.error().contains("bad input -2"), again.error());

            JsonNode all = Json.read(ok("retry", task, "--failed", "--json", "--redis", redis()).out(), "retry --failed --json");
            assertEquals(2, all.path("count").asInt(), "the canceled task and the failing one: " + all);

            assertEquals("deleted task " + task + " #" + done, ok("delete", task, Long.toString(done), "--redis", redis()).out());
            assertTrue(harness.client.get(task, done).isEmpty(), "the deleted task is gone");
            Result deleteAgain = execute("delete", task, Long.toString(done), "--redis", redis());
            assertEquals(1, deleteAgain.code());
            assertTrue(deleteAgain.err().startsWith("taskpool: task " + task + " " + done), deleteAgain.err());
        }
    }

    private static JsonNode kindIn(String statsJson, String task) {
        for (JsonNode node : Json.read(statsJson, "stats --json").path("kinds")) {
            if (node.path("task").asText().equals(task)) {
                return node;
            }
        }
        throw new AssertionError("no kind " + task + " in " + statsJson);
    }

    @Test
    void watchOfOneTaskPrintsItsProgressAndEndsWithIt() throws Exception {
        String task = TestRedis.uniqueTaskId("opswatch");
        try (Harness harness = Harness.open(app(task, 2).dir())) {
            long id = harness.add(task, 3);
            CompletableFuture<Result> watching = CompletableFuture.supplyAsync(
                    () -> execute("watch", task, Long.toString(id), "--for", "60s", "--redis", redis()));
            try (RedisConnector connector = RedisConnector.connect(redis())) {
                WatchListening.awaitChannel(connector, Keys.of(task).events(id), watching, WAIT);
            }
            harness.startWorker();
            Result result = watching.get(90, TimeUnit.SECONDS);   // (the watch stops itself after 60 s)
            assertEquals(0, result.code(), result.err());
            List<String> lines = result.out().lines().toList();
            assertEquals("task " + task + " #" + id + ": WAITING", lines.getFirst(), result.out());
            assertTrue(lines.stream().anyMatch(line -> line.endsWith(task + " #" + id + " progress [######..............] 1/3 step 1 of 3")),
                    "a progress bar per step:\n" + result.out());
            assertTrue(lines.stream().anyMatch(line -> line.contains(" progress [####################] 3/3 step 3 of 3")),
                    result.out());
            assertTrue(lines.getLast().endsWith(task + " #" + id + " success {\"doubled\":6}"), "ends with the task:\n" + result.out());
            assertFalse(result.out().contains("\u001b["), "plain lines when stdout is no terminal");

            // Already finished: its state, at once.
            Result finished = ok("watch", task, Long.toString(id), "--json", "--redis", redis());
            JsonNode state = Json.read(finished.out(), "watch --json");
            assertEquals("state", state.path("event").asText());
            assertEquals("SUCCESS", state.path("status").asText());
        }
    }

    @Test
    void watchOfAKindPrintsCountsAndEventsAsJsonLines() throws Exception {
        String task = TestRedis.uniqueTaskId("opswatchk");
        try (Harness harness = Harness.open(app(task, 2).dir())) {
            // added, started, progress x2, success: 5 events of one task, then the watch stops.
            Set<String> listening = WatchListening.patternSubscribers(redis());
            CompletableFuture<Result> watching = CompletableFuture.supplyAsync(
                    () -> execute("watch", task, "--json", "--events", "5", "--for", "60s", "--redis", redis()));
            // (the worker starts once the watch is there: watch subscribes to every kind's two patterns)
            WatchListening.awaitPatterns(redis(), listening, watching, WAIT);
            harness.startWorker();
            long id = harness.add(task, 2);
            Result result = watching.get(90, TimeUnit.SECONDS);   // (the watch stops itself after 60 s)
            assertEquals(0, result.code(), result.err());
            List<JsonNode> lines = result.out().lines().map(line -> Json.read(line, "a line of watch --json")).toList();
            assertEquals("counts", lines.getFirst().path("event").asText(), result.out());
            assertEquals(task, lines.getFirst().path("task").asText());
            List<String> events = lines.stream().filter(line -> line.path("id").asLong() == id)
                    .map(line -> line.path("event").asText()).toList();
            assertEquals(List.of("added", "started", "progress", "progress", "success"), events, result.out());
        }
        Result unknown = execute("watch", "no-such-kind-" + task, "--redis", redis());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().startsWith("taskpool: ") && unknown.err().contains("no-such-kind-" + task), unknown.err());
    }
}
