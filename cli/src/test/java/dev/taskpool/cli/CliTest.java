package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `taskpool run` and `taskpool get` as a user calls them: JSON out on stdout, errors with exit 1. */
class CliTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static synchronized Result execute(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var commandLine = TaskpoolCommand.commandLine();
            commandLine.setErr(new PrintWriter(err, true));
            int code = commandLine.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString());
        } finally {
            System.setOut(original);
        }
    }

    @Test
    void argumentsAreJsonWhenTheyParseElseStrings() {
        assertEquals("任务-1", RunCommand.parseArg("\"任务-1\""));
        assertEquals("任务-1", RunCommand.parseArg("任务-1"));
        assertEquals(1025L, RunCommand.parseArg("1025"));
        assertEquals(1.5, RunCommand.parseArg("1.5"));
        assertEquals(List.of(1L, "a"), RunCommand.parseArg("[1,\"a\"]"));
        assertEquals(Map.of("a", true), RunCommand.parseArg("{\"a\":true}"));
        assertEquals("{broken", RunCommand.parseArg("{broken"));
    }

    @Test
    void runPrintsTheResultAsJsonAndGetPrintsTheTask() {
        String task = TestRedis.uniqueTaskId("cli");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.cli.Echo", "")
                .script("cli", "function Echo(id, a, b) { return { a: a, b: b }; }\nfunction Add(x, y) { return x + y; }");
        String redis = TestRedis.uri();
        Result sum = execute("run", "scripts.cli.Add", "2", "40", "--app", app.dir().toString(), "--redis", redis);
        assertEquals(0, sum.code(), sum.err());
        assertEquals("42", sum.out());

        Result added = execute("run", "tasks." + task + ".add", "\"x\"", "{\"k\":1}", "--app", app.dir().toString(), "--redis", redis);
        assertEquals(0, added.code(), added.err());
        assertEquals("1", added.out());

        try (Harness harness = Harness.open(app.dir())) {
            harness.startWorker();
            assertEquals(TaskStatus.SUCCESS, harness.await(task, 1).status());
        }
        Result got = execute("get", task, "1", "--redis", redis);
        assertEquals(0, got.code(), got.err());
        assertTrue(got.out().contains("\"status\" : \"SUCCESS\""), got.out());
        assertTrue(got.out().contains("\"response\" : {\n    \"a\" : \"x\",\n    \"b\" : {\n      \"k\" : 1"), got.out());
    }

    @Test
    void errorsGoToStderrWithExitCodeOne() {
        Result missing = execute("get", TestRedis.uniqueTaskId("none"), "5", "--redis", TestRedis.uri());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("taskpool: task ") && missing.err().contains("#5 does not exist"), missing.err());
        assertEquals("", missing.out());

        Result badApp = execute("run", "scripts.x.Y", "--app", dir.resolve("nope").toString(), "--redis", TestRedis.uri());
        assertEquals(1, badApp.code());
        assertTrue(badApp.err().contains("does not exist"), badApp.err());

        Result noRedis = execute("get", "x", "1", "--redis", "redis://127.0.0.1:1");
        assertEquals(1, noRedis.code());
        assertTrue(noRedis.err().contains("cannot connect to Redis at redis://127.0.0.1:1"), noRedis.err());
    }
}
