package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.AclSetuserArgs;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The catalogue of bad input: each case is the error a user sees, naming what was wrong, with
 * nothing half-written. (Bad definition files are in DefinitionLoaderTest and LoadErrorsTest,
 * script syntax errors in LoadErrorsTest.)
 */
class BadInputCatalogTest {
    @TempDir
    static Path dir;
    private static Harness harness;
    private static String task;
    private static String nexted;

    @BeforeAll
    static void open() {
        task = TestRedis.uniqueTaskId("bad");
        nexted = TestRedis.uniqueTaskId("badnext");
        TestApp app = TestApp.in(dir)
                .task(task, 2, 0, 0, 5, 100, "scripts.bad.Work", "")
                .task(nexted, 1, 0, 0, 5, 100, "scripts.bad.Work", "\"event\": {\"next\": \"scripts.bad.Next\"}")
                .script("bad", """
                        function Work(id, mode) {
                          if (mode === 'function') return { f: function () {} };
                          if (mode === 'cycle') { const a = {}; a.self = a; return a; }
                          if (mode === 'slow') { Process('utils.time.Sleep', 1500); }
                          return 'ok';
                        }
                        function Next() { return Process('probe.next.Value'); }
                        function AddFunction() { return Process('tasks.%1$s.add', { cb: function () {} }); }
                        function AddCycle() { const a = { name: 'a' }; a.self = a; return Process('tasks.%1$s.add', a); }
                        function ProgressCount() { Progress('tasks.%1$s.progress', 1, 2); }
                        function SleepBadly() { Process('utils.time.Sleep', 'soon'); }
                        """.formatted(task));
        // The value event.next returns lives in Java: script globals are per pooled context.
        harness = Harness.open(app.dir(), new ProcessRegistry().register("probe.next.Value", args -> nextValue.get()));
        harness.startWorker();
    }

    private static final AtomicReference<Object> nextValue =
            new AtomicReference<>(1L);

    @AfterAll
    static void close() {
        harness.close();
    }

    private static void assertError(String expected, Executable call) {
        TaskpoolException error = assertThrows(TaskpoolException.class, call);
        assertTrue(error.getMessage().contains(expected), "expected «" + expected + "» in: " + error.getMessage());
    }

    private static TaskInfo failedWith(long id, String expected) {
        TaskInfo info = harness.await(task, id);
        assertEquals(TaskStatus.FAILURE, info.status());
        assertTrue(info.error().contains(expected), "expected «" + expected + "» in: " + info.error());
        return info;
    }

    private static void setNext(Object value) {
        nextValue.set(value);
    }

    // --- arguments and results that cannot be serialised ---------------------------------------

    @Test
    void argumentsHoldingAFunction() {
        assertError("the arguments of Process('tasks." + task + ".add') cannot be serialised as JSON: it contains a function",
                () -> harness.call("scripts.bad.AddFunction"));
    }

    @Test
    void argumentsHoldingACycle() {
        assertError("cannot be serialised as JSON", () -> harness.call("scripts.bad.AddCycle"));
    }

    @Test
    void aResultHoldingAFunctionFailsTheTask() {
        failedWith(harness.add(task, "function"), "the result of Work cannot be serialised as JSON: it contains a function");
    }

    @Test
    void aResultHoldingACycleFailsTheTask() {
        failedWith(harness.add(task, "cycle"), "the result of Work cannot be serialised as JSON");
    }

    @Test
    void argumentsPastTheSizeLimit() {
        String big = "x".repeat(1024 * 1024);
        assertError("arguments are 1048580 bytes as JSON, more than the limit of 1048576 bytes", () -> harness.add(task, big));
    }

    @Test
    void argumentsPastTheSizeLimitThroughTheJavaClient() {
        String big = "x".repeat(1024 * 1024);
        long waiting = harness.redis.sync().llen(Keys.of(task).waiting());
        assertError("arguments are 1048580 bytes as JSON, more than the limit of 1048576 bytes",
                () -> harness.client.add(task, big));
        assertError("arguments are 1048580 bytes as JSON, more than the limit of 1048576 bytes",
                () -> harness.client.addAll(task, List.of(List.of("small"), List.of(big))));
        assertTrue(harness.redis.sync().llen(Keys.of(task).waiting()) <= waiting,
                "nothing was added");
    }

    // --- get and progress ---------------------------------------------------------------------

    @Test
    void getOfAnUnknownTask() {
        assertError("unknown process 'tasks.ghost.get': the app has no task 'ghost'", () -> harness.call("tasks.ghost.get", 1));
    }

    @Test
    void getOfAnUnknownId() {
        assertError("task " + task + " #424242 does not exist", () -> harness.call("tasks." + task + ".get", 424242));
    }

    @Test
    void getWithAnIdThatIsNoInteger() {
        assertError("expected a task id (an integer from 1 to 2^53-1), got number 1.5", () -> harness.call("tasks." + task + ".get", 1.5));
    }

    @Test
    void getWithoutAnId() {
        assertError("tasks." + task + ".get expects one argument, the id; got 0", () -> harness.call("tasks." + task + ".get"));
    }

    @Test
    void progressOfAnUnknownId() {
        assertError("#424242 does not exist", () -> harness.call("tasks." + task + ".progress", 424242, 1, 2, "m"));
    }

    @Test
    void progressWithANegativeCount() {
        long id = harness.add(task);
        assertError("progress current must be a number from 0 to 2^53-1, got number -1",
                () -> harness.call("tasks." + task + ".progress", id, -1, 10, "m"));
    }

    @Test
    void progressWithATotalThatIsNoNumber() {
        long id = harness.add(task);
        assertError("progress total must be a number from 0 to 2^53-1, got string \"ten\"",
                () -> harness.call("tasks." + task + ".progress", id, 1, "ten", "m"));
    }

    @Test
    void progressWithTheWrongNumberOfArguments() {
        assertError("Progress(...) expects (id, current, total, message), got 2 arguments",
                () -> harness.call("scripts.bad.ProgressCount"));
    }

    @Test
    void progressOfAFinishedTask() {
        long id = harness.add(task, "ok");
        assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status());
        assertError("has already finished; progress can no longer change",
                () -> harness.call("tasks." + task + ".progress", id, 1, 2, "late"));
    }

    // --- event.next -----------------------------------------------------------------------------

    @Test
    void nextReturningAString() {
        setNext("abc");
        assertError("event.next (scripts.bad.Next) must return a positive integer, got string \"abc\"", () -> harness.add(nexted));
    }

    @Test
    void nextReturningZero() {
        setNext(0);
        assertError("must return an integer from 1 to 2^53-1, got 0", () -> harness.add(nexted));
    }

    @Test
    void nextReturningANegativeNumber() {
        setNext(-7);
        assertError("must return an integer from 1 to 2^53-1, got -7", () -> harness.add(nexted));
    }

    @Test
    void nextReturningAFraction() {
        setNext(2.5);
        assertError("must return an integer from 1 to 2^53-1, got 2.5", () -> harness.add(nexted));
    }

    @Test
    void nextReturningAValuePast2To53() {
        setNext(9007199254740994L);
        assertError("must return an integer from 1 to 2^53-1, got 9007199254740994", () -> harness.add(nexted));
    }

    @Test
    void nextReturningAnIdThatIsTaken() {
        setNext(77);
        harness.add(nexted, "first");
        assertError("task " + nexted + ": id 77 already exists; an add never overwrites a task",
                () -> harness.add(nexted, "second"));
        assertEquals("[\"first\"]", harness.client.get(nexted, 77).orElseThrow().args().toString(),
                "the task that had the id keeps its arguments");
    }

    // --- garbage written by hand into a task hash: the worker fails that task ------------------

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
            "args    | {not json | field 'args' is not valid JSON",
            "args    | {\"a\":1}   | field 'args' must hold a JSON array, got object",
            "status  | DANCING   | the task hash holds status 'DANCING', expected WAITING",
            "attempt | lots      | the task hash holds attempt 'lots', expected an integer",
            "attempt | -1        | the task hash holds attempt '-1', expected an integer from 0",
    })
    void garbageInATaskHashFailsThatTask(String field, String garbage, String expected) {
        try (var paused = new PausedWorkers()) {
            long id = paused.addWithGarbage(field, garbage);
            paused.resume();
            paused.assertFailed(id, expected);
        }
    }

    /** A second task kind with no worker, so that garbage is written before anyone fetches. */
    private static final class PausedWorkers implements AutoCloseable {
        private final Harness paused;
        private final String pausedTask = TestRedis.uniqueTaskId("garbage");
        private Worker worker;

        PausedWorkers() {
            TestApp app = TestApp.in(dir.resolve(pausedTask))
                    .task(pausedTask, 1, 0, 0, 5, 10, "scripts.g.Work", "")
                    .script("g", "function Work(id) { return 'ran'; }");
            paused = Harness.open(app.dir());
        }

        long addWithGarbage(String field, String value) {
            long id = paused.client.add(pausedTask, "ok").id();
            paused.redis.sync().hset(Keys.of(pausedTask).task(id), field, value);
            return id;
        }

        void resume() {
            worker = paused.startWorker();
        }

        void assertFailed(long id, String expected) {
            TaskInfo info = paused.await(pausedTask, id);
            assertEquals(TaskStatus.FAILURE, info.status());
            assertTrue(info.error().contains(expected), "expected «" + expected + "» in: " + info.error());
            RetryAndFailureTest.waitFor(() -> worker.runningCount() == 0);
            assertEquals(0, worker.runningCount(), "the worker went on");
        }

        @Override
        public void close() {
            paused.close();
        }
    }

    // --- names, ids and connections --------------------------------------------------------------

    @Test
    void aTaskIdThatWouldBreakTheKeyLayout() {
        assertError("invalid task id 'mail:send'", () -> harness.client.add("mail:send", 1));
        assertError("invalid task id 'a{b}'", () -> harness.client.get("a{b}", 1));
    }

    @Test
    void anUnknownProcessCalledFromAScript() {
        assertError("unknown process 'models.nope.find'", () -> harness.call("models.nope.find", 1));
    }

    @Test
    void sleepWithSomethingOtherThanMilliseconds() {
        assertError("utils.time.Sleep expects one argument, the milliseconds to sleep, got [soon]",
                () -> harness.call("scripts.bad.SleepBadly"));
    }

    @Test
    void registeringAJavaProcessUnderAnAppsName() {
        assertError("cannot register 'tasks.x.add': names under tasks. and scripts. belong to the app",
                () -> new ProcessRegistry().register("tasks.x.add", args -> null));
        assertError("invalid process name 'save'", () -> new ProcessRegistry().register("save", args -> null));
    }

    @Test
    void aWorkerForATaskTheAppDoesNotHave() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new Worker(harness.runtime, Harness.FAST, List.of("nope")));
        assertTrue(error.getMessage().contains("unknown task 'nope' in the task list"), error.getMessage());
    }

    @Test
    void anUnknownRedisHost() {
        assertError("cannot connect to Redis at redis://no-such-host.invalid:6379",
                () -> TaskpoolClient.connect("redis://no-such-host.invalid:6379", Duration.ofSeconds(3)));
    }

    @Test
    void aWrongPassword() {
        URI uri = URI.create(TestRedis.uri());
        var admin = harness.redis.sync();
        admin.aclSetuser("taskpool-test", AclSetuserArgs.Builder.on().addPassword("right").allKeys()
                .allChannels().allCommands());
        try {
            String wrong = "redis://taskpool-test:wrong@" + uri.getHost() + ":" + uri.getPort();
            assertError("cannot connect to Redis at redis://" + uri.getHost() + ":" + uri.getPort(),
                    () -> RedisConnector.connect(wrong));
            TaskpoolException error = assertThrows(TaskpoolException.class, () -> RedisConnector.connect(wrong));
            assertTrue(error.getMessage().contains("WRONGPASS"), error.getMessage());
            assertTrue(!error.getMessage().contains("wrong@"), "the password is not echoed: " + error.getMessage());
        } finally {
            admin.aclDeluser("taskpool-test");
        }
    }

    @Test
    void aUriThatIsNoRedisUri() {
        assertError("invalid Redis URI 'localhost:6379'", () -> RedisConnector.connect("localhost:6379"));
    }

    @Test
    void awaitingATaskThatNeverFinishesInTime() {
        long id = harness.client.add(task, "slow").id();
        assertTrue(id > 0);
        assertError("did not finish within 1ms", () -> harness.client.await(task, id, Duration.ofMillis(1)));
    }

    @Test
    void nothingIsHalfWrittenByARefusedAdd() {
        // (the worker may still finish earlier tasks meanwhile: only what an add writes is compared)
        var sync = harness.redis.sync();
        long added = harness.runtime.reads().stats(nexted).get("added");
        String counter = sync.get(Keys.of(nexted).sequence());
        long waiting = sync.llen(Keys.of(nexted).waiting());
        setNext(-1);
        assertError("must return an integer from 1 to 2^53-1, got -1", () -> harness.add(nexted));
        assertEquals(added, harness.runtime.reads().stats(nexted).get("added"));
        assertEquals(counter, sync.get(Keys.of(nexted).sequence()));
        assertTrue(sync.llen(Keys.of(nexted).waiting()) <= waiting);
    }

}
