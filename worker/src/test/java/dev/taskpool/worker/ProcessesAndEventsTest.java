package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The calling convention of DESIGN §2 and the events of §3. */
class ProcessesAndEventsTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void processNamesAreCaseInsensitiveAndScriptFilesKeepTheirOwnGlobals() {
        String task = fixture.newTask("names");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.a.Work", "")
                .script("a", """
                        var secret = 'from a';
                        var calls = 0;
                        function Work(id) { return 'a'; }
                        function OnAdd(id) { calls++; return 'a.OnAdd ' + calls; }
                        function Peek() { return typeof secret; }
                        """)
                .script("nested.b", """
                        var calls = 100;
                        function OnAdd(id) { calls++; return 'b.OnAdd ' + calls; }
                        function Peek() { return typeof secret; }
                        const Arrow = (x) => x * 2;
                        """);
        try (Harness harness = Harness.open(app.dir())) {
            assertEquals("a.OnAdd 1", harness.call("scripts.a.OnAdd", 1));
            assertEquals("b.OnAdd 101", harness.call("scripts.nested.b.OnAdd", 1));
            assertEquals("a.OnAdd 2", harness.call("scripts.a.onadd", 1), "function names are case-insensitive");
            assertEquals("string", harness.call("scripts.a.Peek"));
            assertEquals("undefined", harness.call("scripts.nested.b.Peek"), "b cannot read a's globals");
            assertEquals(42L, harness.call("scripts.nested.b.Arrow", 21));
            long id = ((Number) harness.call("TASKS." + task + ".ADD", "x")).longValue();
            assertEquals(1, id);
            @SuppressWarnings("unchecked")
            Map<String, Object> got = (Map<String, Object>) harness.call("tasks." + task + ".Get", id);
            assertEquals("WAITING", got.get("status"));
            assertEquals(List.of("x"), got.get("args"));
        }
    }

    @Test
    void javaProcessesSleepAndClearErrorsForUnknownNames() {
        String task = fixture.newTask("java");
        List<Object> saved = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry().register("models.task.Save", args -> {
            saved.add(args.getFirst());
            return Map.of("saved", true);
        });
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.j.Work", "")
                .script("j", """
                        function Work(id) { return 1; }
                        function Save(x) { return Process('MODELS.TASK.SAVE', { x: x, list: [1, 'two'] }); }
                        function Nap() { const t = Date.now(); Process('utils.time.Sleep', 50); return Date.now() - t; }
                        function Missing() { try { Process('models.nope.find', 1); } catch (e) { return e.message; } }
                        """);
        try (Harness harness = Harness.open(app.dir(), registry)) {
            assertEquals(Map.of("saved", true), harness.call("scripts.j.Save", "hello"));
            assertEquals(Map.of("x", "hello", "list", List.of(1L, "two")), saved.getFirst());
            assertTrue(((Number) harness.call("scripts.j.Nap")).longValue() >= 45);
            assertTrue(((String) harness.call("scripts.j.Missing")).contains("unknown process 'models.nope.find'"));
            TaskpoolException unknown = assertThrows(TaskpoolException.class, () -> harness.call("nothing.here.at"));
            assertTrue(unknown.getMessage().contains("unknown process 'nothing.here.at'"), unknown.getMessage());
            TaskpoolException noTask = assertThrows(TaskpoolException.class, () -> harness.call("tasks.ghost.add"));
            assertTrue(noTask.getMessage().contains("the app has no task 'ghost'"), noTask.getMessage());
            TaskpoolException noFunction = assertThrows(TaskpoolException.class, () -> harness.call("scripts.j.Nope"));
            assertTrue(noFunction.getMessage().contains("scripts/j.js defines no function Nope"), noFunction.getMessage());
            TaskpoolException noFile = assertThrows(TaskpoolException.class, () -> harness.call("scripts.zz.Run"));
            assertTrue(noFile.getMessage().contains("there is no scripts/zz.js"), noFile.getMessage());
        }
    }

    @Test
    void anAppWithoutScriptsRunsJavaProcessorsWithoutStartingGraalJs() {
        String task = fixture.newTask("javaonly");
        ProcessRegistry registry = new ProcessRegistry().register("work.Double", args -> ((Number) args.get(1)).longValue() * 2);
        TestApp app = TestApp.in(dir).task(task, 2, 0, 0, 5, 10, "work.Double", "");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            long id = harness.add(task, 21);
            TaskInfo done = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, done.status());
            assertEquals(42L, Json.toJava(done.response()));
            assertEquals(0, harness.runtime.scripts().contextsCreated(), "no script context was made");
            assertTrue(harness.runtime.scripts().implementationName().startsWith("none"),
                    harness.runtime.scripts().implementationName());
            TaskpoolException noFile = assertThrows(TaskpoolException.class, () -> harness.call("scripts.any.Run"));
            assertTrue(noFile.getMessage().contains("there is no scripts/any.js"), noFile.getMessage());
        }
    }

    @Test
    void progressInBothFormsLandsOnTheRunningTaskAndEveryTransitionIsPublished() {
        String task = fixture.newTask("progress");
        List<List<Object>> progressEvents = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry().register("probe.progress", progressEvents::add);
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.p.Work", "\"event\": {\"progress\": \"scripts.p.OnProgress\"}")
                .script("p", """
                        function Work(id) {
                          Progress(id, 1, 4, 'first');
                          Progress('tasks.other.process', id, 2, 4, 'second');
                          Process('tasks.%s.progress', id, 3, 4, 'third');
                          console.log('working on', id, { step: 3 });
                          return { steps: 3 };
                        }
                        function OnProgress(id, current, total, message) {
                          Process('probe.progress', id, current, total, message);
                        }
                        """.formatted(task));
        try (LogCapture logs = new LogCapture(); Harness harness = Harness.open(app.dir(), registry)) {
            List<TaskEvent> events = new CopyOnWriteArrayList<>();
            try (var ignored = harness.client.subscribe(task, 1, events::add)) {
                harness.startWorker();
                harness.call("tasks." + task + ".add");
                TaskInfo info = harness.await(task, 1);
                assertEquals(TaskStatus.SUCCESS, info.status());
                assertEquals(3, info.current());
                assertEquals(4, info.total());
                assertEquals("third", info.message());
                RetryAndFailureTest.waitFor(() -> events.stream().anyMatch(TaskEvent::isFinal));
            }
            assertEquals(List.of(List.of(1L, 1L, 4L, "first"), List.of(1L, 2L, 4L, "second"), List.of(1L, 3L, 4L, "third")),
                    progressEvents, "event.progress runs on every progress call, in order");
            assertEquals(List.of("added", "started", "progress", "progress", "progress", "success"),
                    events.stream().map(TaskEvent::event).toList());
            assertEquals(3, events.getLast().message().get("response").get("steps").asInt());
            assertTrue(logs.contains("INFO working on 1 {\"step\":3}"), "console.log reaches the log");
        }
    }

    @Test
    void progressOutsideARunNeedsATaskNameAndSaneNumbers() {
        String task = fixture.newTask("outside");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.o.Work", "")
                .script("o", """
                        function Work(id) { return 1; }
                        function Named(id) { Progress('tasks.%s.progress', id, 5, 10, 'named'); return 'ok'; }
                        function Bare(id) { Progress(id, 5, 10, 'bare'); }
                        """.formatted(task));
        try (Harness harness = Harness.open(app.dir())) {
            long id = harness.add(task);
            assertEquals("ok", harness.call("scripts.o.Named", id));
            assertEquals(5, harness.client.get(task, id).orElseThrow().current());
            TaskpoolException bare = assertThrows(TaskpoolException.class, () -> harness.call("scripts.o.Bare", id));
            assertTrue(bare.getMessage().contains("outside a running task"), bare.getMessage());
            TaskpoolException negative = assertThrows(TaskpoolException.class,
                    () -> harness.call("tasks." + task + ".progress", id, -1, 10, "x"));
            assertTrue(negative.getMessage().contains("progress current must be a number from 0"), negative.getMessage());
            TaskpoolException unknown = assertThrows(TaskpoolException.class,
                    () -> harness.call("tasks." + task + ".progress", 424242, 1, 10, "x"));
            assertTrue(unknown.getMessage().contains("#424242 does not exist"), unknown.getMessage());
            TaskpoolException get = assertThrows(TaskpoolException.class, () -> harness.call("tasks." + task + ".get", 424242));
            assertTrue(get.getMessage().contains("#424242 does not exist"), get.getMessage());
            TaskpoolException badId = assertThrows(TaskpoolException.class, () -> harness.call("tasks." + task + ".get", "abc"));
            assertTrue(badId.getMessage().contains("expected a task id"), badId.getMessage());
        }
    }

    @Test
    void nextMustReturnAPositiveSafeIntegerAndCollisionsAreErrors() {
        String task = fixture.newTask("next");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.n.Work", "\"event\": {\"next\": \"scripts.n.Next\"}")
                .script("n", """
                        var value = 7;
                        function Work(id) { return 1; }
                        function Next() { return value; }
                        function Set(v) { value = v; }
                        """);
        try (Harness harness = Harness.open(app.dir())) {
            assertEquals(7L, harness.call("tasks." + task + ".add"));
            TaskpoolException collision = assertThrows(TaskpoolException.class, () -> harness.call("tasks." + task + ".add"));
            assertTrue(collision.getMessage().contains("id 7 already exists"), collision.getMessage());
            for (Object bad : new Object[] {"abc", 0L, -4L, 1.5, 9007199254740993L, null}) {
                harness.call("scripts.n.Set", bad);
                TaskpoolException error = assertThrows(TaskpoolException.class, () -> harness.call("tasks." + task + ".add"),
                        "next returning " + bad);
                assertTrue(error.getMessage().contains("event.next (scripts.n.Next) must return"), error.getMessage());
            }
            assertNull(harness.client.get(task, 0).orElse(null));
        }
    }
}
