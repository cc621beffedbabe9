package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.schedule.UnknownScheduleException;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schedules in real workers on a real Redis: loading errors, task and process schedules fired by two
 * workers with one firing each, Stop and Start through the processes from another runtime, and
 * overlap. Counts and uniqueness only; waits are generous.
 */
class ScheduleWorkerTest {
    private static final Duration LONG = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    private final List<String> schedules = new ArrayList<>();

    @AfterEach
    void removeSchedules() {
        ScheduleOperations operations = new ScheduleOperations(fixture.redis());
        schedules.forEach(operations::remove);
    }

    /** The fire_at of every task the schedule made, in id order. */
    private List<Long> fireTimes(String task) {
        RedisClusterCommands<String, String> raw = fixture.raw();
        Keys keys = Keys.of(task);
        String last = raw.get(keys.sequence());
        List<Long> times = new ArrayList<>();
        for (long id = 1; last != null && id <= Long.parseLong(last); id++) {
            String at = raw.hget(keys.task(id), "fire_at");
            if (at != null) {
                times.add(Long.parseLong(at));
            }
        }
        return times;
    }

    @Test
    void loadingErrorsNameFileFieldAndValue() {
        String task = fixture.newTask("schedload");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 5, 10, "scripts.ok.Run", "")
                .script("ok", "function Run() { return 1; }")
                .write("schedules/unknown.sch.yao", """
                        {"name": "u", "schedule": "* * * * *", "task": "%s", "every": 5}""".formatted(task))
                .write("schedules/cron.sch.json", """
                        {"name": "c", "schedule": "61 * * * *", "task": "%s"}""".formatted(task))
                .write("schedules/zone.sch.jsonc", """
                        // a comment
                        {"name": "z", "schedule": "0 3 * * *", "timezone": "Mars/Base", "task": "%s"}""".formatted(task))
                .write("schedules/both.sch.yao", """
                        {"name": "b", "schedule": "0 3 * * *", "task": "%s", "process": "scripts.ok.Run"}""".formatted(task))
                .write("schedules/ghost.sch.yao", """
                        {"name": "g", "schedule": "0 3 * * *", "task": "ghost"}""")
                .write("schedules/proc.sch.yao", """
                        {"name": "p", "schedule": "0 3 * * *", "process": "scripts.ok.Nope", "missed": "never"}""")
                .write("schedules/broken.sch.yao", "{\"name\": ");
        DefinitionException error = assertThrows(DefinitionException.class, () -> Harness.open(app.dir()));
        String message = error.getMessage();
        assertTrue(message.contains("schedules/unknown.sch.yao: field \"every\": unknown field"), message);
        assertTrue(message.contains("schedules/cron.sch.json: field \"schedule\": \"61 * * * *\" is not a valid cron"
                + " expression: "), message);
        assertTrue(message.contains("schedules/zone.sch.jsonc: field \"timezone\": unknown time zone \"Mars/Base\""), message);
        assertTrue(message.contains("schedules/both.sch.yao: fields \"task\" and \"process\": expected exactly one of them"),
                message);
        assertTrue(message.contains("schedules/proc.sch.yao: field \"missed\": expected \"skip\", \"once\" or \"all\", got"
                + " \"never\""), message);
        assertTrue(message.contains("schedules/broken.sch.yao: malformed JSON at line 1"), message);
        // the app's own checks come after the files parse: an unknown kind, a process that resolves to nothing
        TestApp second = TestApp.in(dir.resolve("second")).task(task, 1, 0, 0, 5, 10, "scripts.ok.Run", "")
                .script("ok", "function Run() { return 1; }")
                .write("schedules/ghost.sch.yao", """
                        {"name": "g", "schedule": "0 3 * * *", "task": "ghost"}""")
                .write("schedules/proc.sch.yao", """
                        {"name": "p", "schedule": "0 3 * * *", "process": "scripts.ok.Nope"}""");
        String checks = assertThrows(DefinitionException.class, () -> Harness.open(second.dir())).getMessage();
        assertTrue(checks.contains("schedules/ghost.sch.yao: field \"task\": the app has no task 'ghost'"), checks);
        assertTrue(checks.contains("schedules/proc.sch.yao: field \"process\": unknown process 'scripts.ok.Nope'"), checks);
    }

    @Test
    void twoWorkersFireEachSlotOnceAndStopFromAnotherRuntimeHoldsForBoth() {
        String task = fixture.newTask("schedfire");
        String tick = task + "-tick";
        String beat = task + "-beat";
        schedules.addAll(List.of(tick, beat));
        AtomicInteger beats = new AtomicInteger();
        TestApp app = TestApp.in(dir).task(task, 2, 0, 0, 5, 1000, "models.sched.work", "")
                .write("schedules/" + tick + ".sch.yao", """
                        {"name": "Every second", "schedule": "*/1 * * * * *", "task": "%s", "args": ["tick", 1]}""".formatted(task))
                .write("schedules/" + beat + ".sch.json", """
                        {"name": "Beat", "schedule": "*/1 * * * * *", "process": "models.sched.beat", "args": [2]}""");
        ProcessRegistry registry = new ProcessRegistry()
                .register("models.sched.work", args -> args)
                .register("models.sched.beat", args -> {
                    assertEquals(List.of(2L), args);
                    return beats.incrementAndGet();
                });
        try (Harness first = Harness.open(app.dir(), registry); Harness second = Harness.open(app.dir(), registry);
             Harness operator = Harness.open(app.dir(), new ProcessRegistry()
                     .register("models.sched.work", args -> args).register("models.sched.beat", args -> 0))) {
            first.startWorker();
            second.startWorker();
            Wait.until("five firings of each schedule", LONG, () -> fireTimes(task).size() >= 5 && beats.get() >= 5);

            operator.call("schedules." + tick + ".Stop");
            operator.call("schedules." + beat + ".Stop");
            int made = fireTimes(task).size();
            String fired = fixture.raw().hget(Keys.processSchedule(beat), "fired");
            sleep(3000);
            assertEquals(made, fireTimes(task).size(), "no task after the stop took effect");
            assertEquals(fired, fixture.raw().hget(Keys.processSchedule(beat), "fired"), "no process firing after the stop");
            assertEquals(Integer.parseInt(fired), beats.get(), "each process firing ran once, on one worker");
            var info = first.client.schedules().get(tick).orElseThrow();
            assertTrue(info.stopped());
            assertEquals("app", info.source());

            operator.call("schedules." + tick + ".Start");
            Wait.until("firings again after Start", LONG, () -> fireTimes(task).size() >= made + 3);
        }
        List<Long> times = fireTimes(task);
        assertEquals(times.size(), new HashSet<>(times).size(), "one task per fire time: " + times);
        for (int i = 1; i < times.size(); i++) {
            assertTrue(times.get(i) > times.get(i - 1), "in order: " + times);
        }
        assertEquals("[\"tick\",1]", fixture.raw().hget(Keys.of(task).task(1), "args"));
        assertEquals(tick, fixture.raw().hget(Keys.of(task).task(1), "schedule"));
    }

    @Test
    void withoutOverlapAFiringWaitsForTheLastTask() {
        String task = fixture.newTask("schedoverlap");
        String slow = task + "-slow";
        schedules.add(slow);
        TestApp app = TestApp.in(dir).task(task, 4, 0, 0, 30, 1000, "models.sched.slow", "")
                .write("schedules/" + slow + ".sch.yao", """
                        {"name": "Slow", "schedule": "*/1 * * * * *", "task": "%s", "overlap": false}""".formatted(task));
        ProcessRegistry registry = new ProcessRegistry().register("models.sched.slow", args -> {
            sleep(2500);
            return 1;
        });
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            Wait.until("three firings", LONG, () -> fireTimes(task).size() >= 3);
            assertThrows(UnknownScheduleException.class, () -> harness.call("schedules." + slow + "-none.Stop"));
        }
        List<Long> times = fireTimes(task);
        for (int i = 1; i < times.size(); i++) {
            assertTrue(times.get(i) - times.get(i - 1) >= 2000, "a firing only once the last task ended: " + times);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
