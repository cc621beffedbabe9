package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `taskpool run` and `taskpool get` as a user calls them: JSON out on stdout, errors with exit 1. */
class CliTest {
    @TempDir
    Path dir;

    /** A line of a Java stack trace ("\tat dev.taskpool...(File.java:12)", "Caused by: ..."). */
    private static final Pattern STACK_FRAME =
            Pattern.compile("(?m)^\\s+at [\\w$.<>/]+\\(|^Caused by: ");

    private static void assertNoStackTrace(Result result) {
        assertTrue(!STACK_FRAME.matcher(result.err()).find(), "no Java stack trace expected, got:\n" + result.err());
    }

    /** A user's error: exit 1, nothing on stdout, and exactly {@code line} on stderr. */
    private static void assertOneLine(String line, Result result) {
        assertEquals(1, result.code(), result.err());
        assertEquals("", result.out());
        assertEquals(line, result.err().strip(), "the one line on stderr");
        assertNoStackTrace(result);
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

    @Test
    void aUsersErrorInRunIsOneLineWithoutAStackTrace() {
        String task = TestRedis.uniqueTaskId("clierr");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.e.Ten", "")
                .script("e", """
                        function Fail() {
                          throw { code: 7, reason: 'x' };
                        }
                        function Big() { return 2n ** 64n; }
                        function Ten() { return 10n; }
                        function BadAdd() { return Process('tasks.%s.add', 10n ** 20n); }
                        """.formatted(task));
        String[] where = {"--app", app.dir().toString(), "--redis", TestRedis.uri()};

        Result ten = execute(with(where, "run", "scripts.e.Ten"));
        assertEquals(0, ten.code(), ten.err());
        assertEquals("10", ten.out());

        assertOneLine("taskpool: {\"code\":7,\"reason\":\"x\"} (at scripts/e.js:2)", execute(with(where, "run", "scripts.e.Fail")));
        assertOneLine("taskpool: TypeError: the result of Big cannot be serialised as JSON: BigInt 18446744073709551616n does not"
                + " fit a JSON number exactly (BigInts from -(2^53-1) to 2^53-1 become numbers; pass larger ones as strings:"
                + " String(n))", execute(with(where, "run", "scripts.e.Big")));
        assertOneLine("taskpool: TypeError: the arguments of Process('tasks." + task + ".add') cannot be serialised as JSON:"
                + " BigInt 100000000000000000000n (at index 0) does not fit a JSON number exactly (BigInts from -(2^53-1) to"
                + " 2^53-1 become numbers; pass larger ones as strings: String(n)) (at scripts/e.js:6)",
                execute(with(where, "run", "scripts.e.BadAdd")));
        assertOneLine("taskpool: unknown process scripts.e.Nope: scripts/e.js defines no function Nope",
                execute(with(where, "run", "scripts.e.Nope")));
        assertOneLine("taskpool: unknown process 'nothing.here': expected tasks.<id>.<method>, scripts.<file>.<Function> or one"
                + " of the processes registered from Java [utils.time.Sleep]", execute(with(where, "run", "nothing.here")));
        Result badId = execute(with(where, "run", "tasks." + task + ".get", "abc"));
        assertEquals(1, badId.code());
        assertTrue(badId.err().startsWith("taskpool: ") && badId.err().contains("abc"), badId.err());
        assertNoStackTrace(badId);
        assertOneLine("taskpool: task " + task + ": arguments are 24 bytes as JSON, more than the limit of 20 bytes",
                execute(with(where, "run", "tasks." + task + ".add", "\"" + "x".repeat(20) + "\"", "--max-args", "20")));
    }

    @Test
    void debugAddsTheStackTrace() {
        TestApp app = TestApp.in(dir)
                .task(TestRedis.uniqueTaskId("clidebug"), 1, 0, 0, 5, 10, "scripts.e.Fail", "")
                .script("e", "function Fail() { throw new RangeError('out of range'); }");
        Result result = execute("run", "scripts.e.Fail", "--debug", "--app", app.dir().toString(), "--redis", TestRedis.uri());
        assertEquals(1, result.code());
        assertTrue(result.err().startsWith("taskpool: RangeError: out of range (at scripts/e.js:1)\n"), result.err());
        assertTrue(STACK_FRAME.matcher(result.err()).find() && result.err().contains("at dev.taskpool."),
                "--debug prints the stack trace:\n" + result.err());
    }

    @Test
    void startupErrorsOfWorkerAndGetAreOneLine() {
        String redis = TestRedis.uri();
        assertOneLine("taskpool: app directory " + dir.resolve("nope") + " does not exist",
                execute("worker", "--app", dir.resolve("nope").toString(), "--redis", redis));

        TestApp broken = TestApp.in(dir.resolve("broken")).task("broken", "{\"process\": 42}");
        Result badDefinition = execute("worker", "--app", broken.dir().toString(), "--redis", redis);
        assertEquals(1, badDefinition.code());
        assertTrue(badDefinition.err().startsWith("taskpool: 7 bad task definitions:\n") && badDefinition.err().contains(
                "tasks/broken.yao: field \"process\": expected a non-empty string, got number 42"), badDefinition.err());
        assertNoStackTrace(badDefinition);

        Result noRedis = execute("worker", "--app", broken.dir().toString(), "--redis", "redis://127.0.0.1:1");
        assertEquals(1, noRedis.code());
        assertTrue(noRedis.err().startsWith("taskpool: cannot connect to Redis at redis://127.0.0.1:1"), noRedis.err());
        assertNoStackTrace(noRedis);

        Result getNoRedis = execute("get", "x", "1", "--redis", "redis://127.0.0.1:1");
        assertTrue(getNoRedis.err().startsWith("taskpool: cannot connect to Redis at redis://127.0.0.1:1"), getNoRedis.err());
        assertNoStackTrace(getNoRedis);

        Result badSize = execute("worker", "--max-result", "lots", "--app", broken.dir().toString(), "--redis", redis);
        assertEquals(2, badSize.code(), "a usage error");
        assertTrue(badSize.err().startsWith("taskpool: Invalid value for option '--max-result': 'lots' is not a size (expected e.g."
                + " 1048576, 512KiB or 4MiB)"), badSize.err());
    }

    @Test
    void theLimitsAndDebugAreListedInHelp() {
        Result worker = execute("worker", "--help");
        String help = worker.out().replaceAll("\\s+", " ");   // picocli wraps long lines
        assertTrue(help.contains("--max-result=SIZE") && help.contains("env TASKPOOL_MAX_RESULT; default 1MiB")
                && help.contains("--max-args=SIZE") && help.contains("--debug"), worker.out());
        Result run = execute("run", "--help");
        assertTrue(run.out().contains("--max-args=SIZE") && !run.out().contains("--max-result"), run.out());
    }

    /**
     * Every option's description renders: a bare '%' in one made picocli print a "[picocli WARN]
     * Could not format ..." line on stderr with every usage error and help of `worker`.
     */
    @Test
    void theWorkerHelpRendersWithoutPicocliWarnings() {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Result help;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            help = execute("worker", "--help");
        } finally {
            System.setErr(original);
        }
        String warnings = captured.toString(StandardCharsets.UTF_8) + help.err();
        assertTrue(!warnings.contains("picocli WARN"), "no picocli warning expected, got:\n" + warnings);
        assertTrue(help.out().replaceAll("\\s+", " ").contains("jittered ±20% (default 4s)"), help.out());
    }

    @Test
    void unexpectedErrorsAreNamedAsSuchWithoutAStackTrace() {
        assertEquals("unexpected error java.lang.NullPointerException: boom (--debug prints its stack trace)",
                TaskpoolCommand.describe(new NullPointerException("boom")));
        assertEquals("no such thing", TaskpoolCommand.describe(new TaskpoolException("no such thing")));
    }

    /**
     * The whole of stderr of a real `taskpool run` process, logs included: a script's error is
     * its one line there too, and no log line carries a stack trace.
     */
    @Test
    void aRealRunProcessPrintsNoStackTrace() throws Exception {
        TestApp app = TestApp.in(dir)
                .task(TestRedis.uniqueTaskId("cliproc"), 1, 0, 0, 5, 10, "scripts.e.Fail", "")
                .script("e", "function Fail() {\n  throw 'it broke';\n}");
        String javaCommand = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(javaCommand, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), TaskpoolCommand.class.getName(),
                "run", "scripts.e.Fail", "--app", app.dir().toString(), "--redis", TestRedis.uri())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(dir.resolve("stderr.txt").toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("taskpool run did not exit within 60 s");
        }
        String err = Files.readString(dir.resolve("stderr.txt"));
        assertEquals(1, process.exitValue(), err);
        assertTrue(err.lines().anyMatch(line -> line.equals("taskpool: it broke (at scripts/e.js:2)")), err);
        assertTrue(!STACK_FRAME.matcher(err).find(), "no Java stack trace expected, got:\n" + err);
    }

    private static String[] with(String[] options, String... args) {
        String[] all = Arrays.copyOf(args, args.length + options.length);
        System.arraycopy(options, 0, all, args.length, options.length);
        return all;
    }
}
