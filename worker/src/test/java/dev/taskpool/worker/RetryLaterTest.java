package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A processor asks for the wait before its next run, and may say that the run does not count
 * against {@code attempts}: from JavaScript ({@code throw RetryLater(wait, message, {counts})}) and
 * from Java ({@link RetryLater}). Real Redis and a real worker.
 */
class RetryLaterTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void aScriptAsksForItsWaitAndARunThatDoesNotCountKeepsTheRunBudget() {
        String task = fixture.newTask("later");
        AtomicInteger runs = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry()
                .register("probe.later.Next", args -> runs.incrementAndGet())
                .register("java.later.Limited", args -> {
                    throw new RetryLater(Duration.ofMillis(700), "429 from the API");
                });
        // attempts 1: two runs that count. Run 1 does not count, run 2 does (a Java process asked,
        // through the script), run 3 succeeds: had run 1 counted, run 2 would have been the last.
        TestApp app = TestApp.in(dir).task(task, 1, 1, 60_000, 30, 10, "scripts.later.Work", "")
                .script("later", """
                        function Work(id) {
                          const run = Process('probe.later.Next');
                          if (run === 1) throw RetryLater(1500, 'rate limited', { counts: false });
                          if (run === 2) return Process('java.later.Limited', id);
                          return run;
                        }
                        """);
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            List<TaskEvent> events = new CopyOnWriteArrayList<>();
            try (var ignored = harness.client.subscribe(task, 1, events::add)) {
                long id = harness.add(task);
                TaskInfo done = harness.await(task, id);
                assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
                assertEquals(3, done.response().asInt());
                assertEquals(2, done.attempt(), "the runs that counted");
                assertEquals(1, done.freeRuns(), "the run that did not");
                assertEquals("1", harness.redis.sync().hget(Keys.of(task).task(id), "free_runs"));
                assertEquals(1, done.toJson().path("free_runs").asInt(), "get shows it");
                Wait.until("the final event", LIMIT, () -> events.stream().anyMatch(TaskEvent::isFinal));
            }
            List<TaskEvent> retries = events.stream().filter(event -> event.event().equals(TaskEvent.RETRY)).toList();
            List<TaskEvent> starts = events.stream().filter(event -> event.event().equals(TaskEvent.STARTED)).toList();
            assertEquals(2, retries.size(), events.toString());
            assertEquals(List.of(1, 1, 2), starts.stream().map(event -> event.message().path("attempt").asInt()).toList(),
                    "the run after the free one has the same number");
            assertEquals("rate limited", retries.get(0).message().path("error").asText());
            assertEquals("429 from the API", retries.get(1).message().path("error").asText());
            long[] asked = {1500, 700};   // instead of attempt_after's minute
            for (int i = 0; i < 2; i++) {
                var retry = retries.get(i).message();
                assertEquals(asked[i], retry.path("due_at").asLong() - retry.path("at").asLong(), "the wait asked for, retry " + i);
                assertTrue(starts.get(i + 1).message().path("at").asLong() >= retry.path("due_at").asLong(),
                        "the next run started no earlier than asked");
            }
            assertEquals(3, runs.get());
        }
    }

    @Test
    void aJavaProcessorsRunThatDoesNotCountRunsAgainEvenOnItsLastRun() {
        String task = fixture.newTask("javalater");
        AtomicInteger runs = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.javalater.Work", args -> {
            if (runs.incrementAndGet() <= 2) {
                throw new RetryLater(Duration.ofMillis(300), "busy, try again", false);
            }
            return "ok";
        });
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 30, 10, "java.javalater.Work", "");   // attempts 0: one run
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            long id = harness.add(task);
            TaskInfo done = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
            assertEquals(1, done.attempt());
            assertEquals(2, done.freeRuns());
            assertEquals(3, runs.get());
            assertEquals(2L, harness.runtime.reads().stats(task).get("retried"));
        }
    }

    @Test
    void aBadRequestFromAScriptFailsTheRunWithAMessageNamingTheValue() {
        String task = fixture.newTask("badlater");
        TestApp app = TestApp.in(dir).task(task, 4, 0, 0, 30, 20, "scripts.badlater.Work", "")
                .script("badlater", """
                        function Work(id, how) {
                          switch (how) {
                            case 'negative': throw RetryLater(-5, 'x');
                            case 'nan': throw RetryLater(NaN, 'x');
                            case 'text': throw RetryLater('5s', 'x');
                            case 'huge': throw new RetryLater(1e15, 'x');
                            case 'option': throw RetryLater(10, 'x', { count: false });
                            case 'counts': throw RetryLater(10, 'x', { counts: 'no' });
                            case 'caught':
                              try { throw RetryLater(10, 'inner'); } catch (e) {
                                return [e instanceof RetryLater, e instanceof Error, e.name, e.message, e.wait, e.counts];
                              }
                          }
                        }
                        """);
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("negative", "scripts.badlater.Work: RetryLater: the wait -5 ms is negative; expected 0 to 168h (604800000 ms)");
        expected.put("nan", "scripts.badlater.Work: RetryLater: the wait must be a number of milliseconds, got NaN");
        expected.put("text", "scripts.badlater.Work: RetryLater: the wait must be a number of milliseconds, got string \"5s\"");
        expected.put("huge", "scripts.badlater.Work: RetryLater: the wait 1000000000000000 ms (277777777h46m40s) is longer than"
                + " the limit of 168h (604800000 ms)");
        expected.put("option", "scripts.badlater.Work: RetryLater: unknown option \"count\"; expected counts");
        expected.put("counts", "scripts.badlater.Work: RetryLater: the option counts must be true or false, got no");
        try (Harness harness = Harness.open(app.dir())) {
            harness.startWorker();
            Map<String, Long> ids = new LinkedHashMap<>();
            for (String how : expected.keySet()) {
                ids.put(how, harness.add(task, how));
            }
            long caught = harness.add(task, "caught");
            for (var entry : expected.entrySet()) {
                TaskInfo done = harness.await(task, ids.get(entry.getKey()));
                assertEquals(TaskStatus.FAILURE, done.status(), entry.getKey() + ": " + done);
                assertEquals(entry.getValue(), done.error(), entry.getKey());
                assertEquals(0, done.freeRuns(), entry.getKey());
            }
            TaskInfo caughtDone = harness.await(task, caught);
            assertEquals(TaskStatus.SUCCESS, caughtDone.status(), caughtDone.toString());
            assertEquals("[true,true,\"RetryLater\",\"inner\",10,true]", caughtDone.response().toString(),
                    "a script can catch it and read it");
            assertEquals(0L, harness.runtime.reads().stats(task).getOrDefault("retried", 0L), "none was retried");
        }
    }
}
