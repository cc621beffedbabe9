package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.json.ValueLimits;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import dev.taskpool.worker.script.ScriptException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Values at the edges of JavaScript and JSON: BigInts and numbers JSON cannot hold, thrown values
 * that are no Error, and the size limits of arguments and results (set small here: 1 KiB of
 * result, 200 bytes of arguments).
 */
class EdgeValuesTest {
    private static final String BIG = "12345678901234567890123n";
    private static final String BIG_ERROR = "BigInt " + BIG + " does not fit a JSON number exactly"
            + " (BigInts from -(2^53-1) to 2^53-1 become numbers; pass larger ones as strings: String(n))";

    @TempDir
    static Path dir;
    private static String task;
    private static RedisConnector redis;
    private static AppRuntime runtime;
    private static TaskpoolClient client;
    private static Worker worker;
    /** What the error handler received as err.message, by task id. */
    private static final Map<Long, String> handlerSaw = new ConcurrentHashMap<>();

    @BeforeAll
    static void open() {
        task = TestRedis.uniqueTaskId("edge");
        TestApp app = TestApp.in(dir)
                .task(task, 2, 2, 0, 5, 100, "scripts.v.Work", "\"event\": {\"error\": \"scripts.v.OnError\"}")
                .script("v", """
                        class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
                        function Work(id, mode, size) {
                          switch (mode) {
                            case 'bigint': return 10n;
                            case 'bigint-nested': return { n: 10n, list: [-(2n ** 53n - 1n)] };
                            case 'bigint-big': return %s;
                            case 'nan': return NaN;
                            case 'text': return 'x'.repeat(size);
                            case 'throw-object': throw { code: 7, reason: 'x' };
                            case 'throw-string': throw 'text';
                            case 'throw-number': throw 42;
                            case 'throw-type-error': throw new TypeError('bad type');
                            case 'throw-error': throw new Error('plain');
                            case 'throw-subclass': throw new MyError('mine');
                            case 'throw-error-with-fields': throw Object.assign(new Error('refused'), { code: 7, retry: false });
                            case 'throw-subclass-with-fields': throw Object.assign(new MyError('mine'), { code: 8 });
                          }
                          return 'ok';
                        }
                        function OnError(id, err) { Process('probe.handler.Saw', id, err.message); }
                        function Small() { return 10n; }
                        function Big() { return %1$s; }
                        function Exact() { return [9007199254740991n, -9007199254740991n]; }
                        function JustPast() { return 9007199254740992n; }
                        function Nested() { return { a: [1, %1$s] }; }
                        function Echo(...args) { return args; }
                        function ProcessSmall() { return Process('scripts.v.Echo', 10n, { n: 10n }); }
                        function ProcessBig() { return Process('scripts.v.Echo', { n: %1$s }); }
                        function ProgressBig() { Progress('tasks.%2$s.progress', 1, %1$s, 10, 'm'); }
                        function NotANumber() { return NaN; }
                        function Infinite() { return { a: -Infinity }; }
                        function MinusZero() { return -0; }
                        function MinusZeroNested() { return [-0]; }
                        function Thrower() {
                          throw { code: 7, reason: 'x' };
                        }
                        function CatchesProcessError() {
                          try { Process('scripts.v.Thrower'); } catch (e) { return e.message; }
                        }
                        """.formatted(BIG, task));
        ProcessRegistry registry = new ProcessRegistry().register("probe.handler.Saw", args -> {
            handlerSaw.put(((Number) args.get(0)).longValue(), String.valueOf(args.get(1)));
            return null;
        });
        redis = RedisConnector.connect(TestRedis.uri());
        runtime = AppRuntime.open(app.dir(), new AddStore(redis), registry, InstantSource.system(),
                new ValueLimits(200, 1024));
        client = TaskpoolClient.connect(TestRedis.uri());
        worker = new Worker(runtime, Harness.FAST, List.of()).start();
    }

    @AfterAll
    static void close() {
        if (worker != null) {
            worker.close();
        }
        if (client != null) {
            client.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static Object call(String process, Object... args) {
        return runtime.call(process, Arrays.asList(args));
    }

    /** A list argument sends the call through JSON both ways (the other path from plain arguments). */
    private static Object callThroughJson(String process) {
        return call(process, List.of("a list argument"));
    }

    private static void assertError(String expected, String process) {
        ScriptException plain = assertThrows(ScriptException.class, () -> call(process));
        assertTrue(plain.getMessage().contains(expected), "plain arguments: expected «" + expected + "» in: " + plain.getMessage());
        ScriptException json = assertThrows(ScriptException.class, () -> callThroughJson(process));
        assertTrue(json.getMessage().contains(expected), "JSON arguments: expected «" + expected + "» in: " + json.getMessage());
    }

    private static TaskInfo run(Object... args) {
        long id = client.add(task, args).id();
        return client.await(task, id, Duration.ofSeconds(30));
    }

    private static String handlerMessage(long id) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!handlerSaw.containsKey(id)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the error handler of task #" + id + " did not run within 60 s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
        return handlerSaw.get(id);
    }

    // --- BigInt: a number when it is one exactly, else an error ----------------------------------

    @Test
    void aBigIntThatFitsBecomesANumberWhicheverWayItLeaves() {
        assertEquals(10L, call("scripts.v.Small"));
        assertEquals(10L, callThroughJson("scripts.v.Small"));
        assertEquals(List.of(9007199254740991L, -9007199254740991L), call("scripts.v.Exact"));
        assertEquals(List.of(10L, Map.of("n", 10L)), call("scripts.v.ProcessSmall"));
    }

    @Test
    void aBigIntPastTwoTo53IsAnErrorWhicheverWayItLeaves() {
        assertError("the result of Big cannot be serialised as JSON: " + BIG_ERROR, "scripts.v.Big");
        assertError("the result of JustPast cannot be serialised as JSON: BigInt 9007199254740992n does not fit",
                "scripts.v.JustPast");
        assertError("the result of Nested cannot be serialised as JSON: BigInt " + BIG + " (at index 1) does not fit",
                "scripts.v.Nested");
        assertError("the arguments of Process('scripts.v.Echo') cannot be serialised as JSON: BigInt " + BIG
                + " (under key \"n\") does not fit", "scripts.v.ProcessBig");
        assertError("the arguments of Progress(...) cannot be serialised as JSON: BigInt " + BIG + " (at index 2) does not fit",
                "scripts.v.ProgressBig");
    }

    @Test
    void aBigIntResultOfATask() {
        TaskInfo small = run("bigint");
        assertEquals(TaskStatus.SUCCESS, small.status(), small.error());
        assertEquals("10", small.response().toString());
        TaskInfo nested = run("bigint-nested");
        assertEquals("{\"n\":10,\"list\":[-9007199254740991]}", nested.response().toString());

        TaskInfo big = run("bigint-big");
        assertEquals(TaskStatus.FAILURE, big.status());
        assertEquals("TypeError: the result of Work cannot be serialised as JSON: " + BIG_ERROR, big.error());
    }

    @Test
    void aJavaLongPastTwoTo53ReachesAScriptAsTheNearestNumberWhicheverWayItGoes() {
        // As JSON.parse reads 9007199254740993: before, the plain path kept a value JSON.stringify refused as "a BigInt".
        assertEquals(List.of(9007199254740992L), call("scripts.v.Echo", 9007199254740993L));
        assertEquals(List.of(List.of(9007199254740992L)), call("scripts.v.Echo", List.of(9007199254740993L)));
    }

    // --- other numbers JSON cannot hold ----------------------------------------------------------

    @Test
    void nanAndInfinityAreErrorsNotNull() {
        assertError("the result of NotANumber cannot be serialised as JSON: it contains NaN, which is no JSON number",
                "scripts.v.NotANumber");
        assertError("the result of Infinite cannot be serialised as JSON: it contains -Infinity (under key \"a\"),"
                + " which is no JSON number", "scripts.v.Infinite");
        TaskInfo nan = run("nan");
        assertEquals(TaskStatus.FAILURE, nan.status());
        assertTrue(nan.error().contains("it contains NaN, which is no JSON number"), nan.error());
    }

    @Test
    void minusZeroIsZero() {
        assertEquals(0L, call("scripts.v.MinusZero"));
        assertEquals(0L, callThroughJson("scripts.v.MinusZero"));
        assertEquals(List.of(0L), call("scripts.v.MinusZeroNested"));
    }

    // --- thrown values --------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "throw-object     | {\"code\":7,\"reason\":\"x\"}",
            "throw-string     | text",
            "throw-number     | 42",
            "throw-type-error | TypeError: bad type",
            "throw-error      | plain",
            "throw-subclass   | MyError: mine",
            "throw-error-with-fields    | refused {\"code\":7,\"retry\":false}",
            "throw-subclass-with-fields | MyError: mine {\"code\":8}",
    })
    void aThrownValueKeepsItsContentInTheRecordAndTheErrorHandler(String mode, String expected) {
        TaskInfo info = run(mode);
        assertEquals(TaskStatus.FAILURE, info.status());
        assertEquals(expected, info.error(), "the recorded error");
        assertEquals(expected, handlerMessage(info.id()), "err.message in the error handler");
    }

    @Test
    void aThrownObjectNamesWhereItWasThrown() {
        ScriptException error = assertThrows(ScriptException.class, () -> call("scripts.v.Thrower"));
        assertEquals("{\"code\":7,\"reason\":\"x\"}", error.getMessage());
        assertEquals("scripts/v.js:" + (lineOf("function Thrower()") + 1), error.location().orElseThrow());
        assertEquals("{\"code\":7,\"reason\":\"x\"}", call("scripts.v.CatchesProcessError"), "a calling script reads it too");
    }

    /** The line of scripts/v.js that holds {@code text}. */
    private static int lineOf(String text) {
        List<String> lines;
        try {
            lines = Files.readAllLines(dir.resolve("scripts/v.js"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError("scripts/v.js has no line with " + text);
    }

    // --- size limits ----------------------------------------------------------------------------

    @Test
    void aResultOverTheLimitFailsTheTaskAtOnceAndReachesTheErrorHandler() {
        TaskInfo fits = run("text", 1022);   // 1024 bytes with its quotes: exactly the limit
        assertEquals(TaskStatus.SUCCESS, fits.status(), fits.error());

        TaskInfo tooBig = run("text", 2000);
        assertEquals(TaskStatus.FAILURE, tooBig.status());
        String expected = "the processor's result cannot be stored as JSON: it is 2002 bytes, more than the limit of 1024"
                + " bytes (worker option --max-result, env TASKPOOL_MAX_RESULT)";
        assertEquals(expected, tooBig.error());
        assertEquals(1, tooBig.attempt(), "a result over the limit is not retried (attempts: 2)");
        assertEquals(expected, handlerMessage(tooBig.id()));
    }

    @Test
    void argumentsOverTheConfiguredLimitAreRefused() {
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> call("tasks." + task + ".add", "x".repeat(200)));
        assertEquals("task " + task + ": arguments are 204 bytes as JSON, more than the limit of 200 bytes", error.getMessage());
        assertEquals("[\"" + "x".repeat(196) + "\"]", Json.write(List.of("x".repeat(196))));
        assertTrue(((Number) call("tasks." + task + ".add", "x".repeat(196))).longValue() > 0, "200 bytes exactly fit");
    }
}
