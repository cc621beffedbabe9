package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A producer's text cannot drive the operator's terminal: progress messages, errors, responses and
 * "by" holding OSC 52 (write the clipboard), a screen clear, a C1 CSI and a window title reach
 * watch, list, stats and get with every control character made visible, or escaped as JSON.
 */
class TerminalInjectionTest {
    /** What an end user typed into a form, as a JS string (OSC 52, clear screen, C1 CSI, OSC 0 title). */
    private static final String EVIL_JS = "'\\u001b]52;c;b3duZWQ=\\u0007 \\u001b[2J \\u009b31m \\u001b]0;title\\u0007 任务'";
    private static final String EVIL = "\u001b]52;c;b3duZWQ=\u0007 \u001b[2J \u009b31m \u001b]0;title\u0007 任务";
    /** The same, as the operator now sees it. */
    private static final String SHOWN = "\\e]52;c;b3duZWQ=\\x07 \\e[2J \\x9b31m \\e]0;title\\x07 任务";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** n < 0 fails, n == 0 keeps running for a while, n > 0 succeeds; each reports the evil progress first. */
    private TestApp app(String task) {
        return TestApp.in(dir)
                .task(task, 3, 0, 0, 60, 100, "scripts.evil.Work", "")
                .script("evil", """
                        function Work(id, n) {
                          var evil = %s;
                          Progress(id, 1, 2, 'step ' + evil);
                          if (n < 0) { throw new Error('bad ' + evil); }
                          if (n == 0) { Process('utils.time.Sleep', 50000); }
                          return { note: evil };
                        }
                        """.formatted(EVIL_JS));
    }

    /** No control character but newline reaches the terminal: no ESC, BEL, C1 (U+0080 to U+009F) or DEL. */
    private static void assertInert(String what, String printed) {
        for (int i = 0; i < printed.length(); i++) {
            char c = printed.charAt(i);
            boolean control = (c < 0x20 && c != '\n') || (c >= 0x7f && c <= 0x9f);
            assertTrue(!control, what + ": raw control character U+%04X at %d in:\n%s".formatted((int) c, i, printed));
        }
    }

    private static Result ok(String... args) {
        Result result = execute(args);
        assertEquals(0, result.code(), String.join(" ", args) + " failed: " + result.err());
        assertInert(String.join(" ", args) + " (stderr)", result.err());
        assertInert(String.join(" ", args), result.out());
        return result;
    }

    @Test
    void watchListStatsAndGetShowEvilTextVisiblyAndDriveNothing() throws Exception {
        String task = TestRedis.uniqueTaskId("evil");
        String redis = TestRedis.uri();
        try (Harness harness = Harness.open(app(task).dir());
             RedisConnector connector = RedisConnector.connect(redis)) {
            TaskOperations operations = new TaskOperations(connector);
            long failing = harness.add(task, -1);
            CompletableFuture<Result> watching = CompletableFuture.supplyAsync(
                    () -> execute("watch", task, Long.toString(failing), "--for", "90s", "--redis", redis));
            WatchListening.awaitChannel(connector, Keys.of(task).events(failing), watching, WAIT);
            harness.startWorker();
            Result watched = watching.get(120, TimeUnit.SECONDS);
            assertEquals(0, watched.code(), watched.err());
            assertInert("watch TASK ID", watched.out());
            assertTrue(watched.out().contains("progress [##########..........] 1/2 step " + SHOWN), watched.out());
            assertTrue(watched.out().contains("failure bad " + SHOWN), watched.out());

            long succeeding = harness.add(task, 1);
            assertEquals(TaskStatus.SUCCESS, harness.await(task, succeeding).status());
            long running = harness.add(task, 0);
            awaitProgress(operations, task, running);

            Result runningList = ok("list", task, "--status", "running", "--redis", redis);
            assertTrue(runningList.out().contains("step " + SHOWN.substring(0, 20)), runningList.out());
            Result successList = ok("list", task, "--status", "success", "--redis", redis);
            assertTrue(successList.out().contains("{\"note\":\"\\u001B]52;c;b3duZWQ=\\u0007 \\u001B[2J \\u009B31m"),
                    successList.out());
            ok("list", task, "--status", "failure", "--redis", redis);
            ok("list", task, "--status", "running", "--json", "--redis", redis);

            // an operator named through the Java API (the command line refuses such a --by)
            operations.pause(task, "mallory" + EVIL);
            Result stats = ok("stats", "--redis", redis);
            assertTrue(stats.out().contains("yes (mallory\\e]52;c;"), stats.out());
            ok("stats", "--json", "--redis", redis);
            operations.resume(task, "ops");
            operations.cancel(task, running, "mallory" + EVIL);
            Result canceled = ok("list", task, "--status", "failure", "--redis", redis);
            assertTrue(canceled.out().contains("mallory\\e]52;c;"), canceled.out());

            // JSON: escaped, and the same text when read back
            for (long id : new long[] {failing, succeeding, running}) {
                Result got = ok("get", task, Long.toString(id), "--redis", redis);
                JsonNode record = Json.read(got.out(), "get");
                TaskInfo info = harness.client.get(task, id).orElseThrow();
                assertEquals(info.message(), record.path("message").asText(), "the message read back as it is");
            }
            assertTrue(ok("get", task, Long.toString(succeeding), "--redis", redis).out().contains("\\u009B31m"),
                    "C1 CSI as a JSON escape");
            Result finished = ok("watch", task, Long.toString(succeeding), "--redis", redis);
            assertTrue(finished.out().contains("SUCCESS {\"note\":"), finished.out());
        }
    }

    private static void awaitProgress(TaskOperations operations, String task, long id) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            var page = operations.list(task, TaskStatus.RUNNING, 100, null);
            if (page.tasks().stream().anyMatch(info -> info.id() == id && info.message() != null && info.message().contains(EVIL))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("task " + task + " #" + id + " did not report its progress within " + WAIT);
            }
            sleep(50);
        }
    }


    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
