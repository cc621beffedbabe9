package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed run with runs left leaves the worker: its task waits in Redis (WAITING, {@code due_at},
 * in the kind's {@code delayed} set) and the slot takes other work at once; the next run is
 * fetched like any task. Real Redis, real workers; the tests compare orders and counts, and give
 * every wait a generous deadline.
 */
class RetryGivesBackItsSlotTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    private static Map<String, String> hash(Harness harness, String task, long id) {
        return harness.redis.sync().hgetall(Keys.of(task).task(id));
    }

    private static long number(Map<String, String> hash, String field) {
        return Long.parseLong(hash.get(field));
    }

    /** Waits until the task's first failed run was given back to wait (its retry recorded). */
    private static Map<String, String> awaitRetried(Harness harness, String task, long id) {
        Wait.until("task #" + id + "'s retry was recorded", LIMIT,
                () -> "WAITING".equals(hash(harness, task, id).get("status")) && hash(harness, task, id).containsKey("due_at"));
        return hash(harness, task, id);
    }

    @Test
    void aTaskAddedAfterAFailingOneFinishesBeforeTheFailingOnesNextRunStarts() {
        String task = fixture.newTask("slot");
        AtomicInteger flakyRuns = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.slot.Work", args -> {
            String what = (String) args.get(1);
            if (what.equals("flaky") && flakyRuns.incrementAndGet() == 1) {
                throw new IllegalStateException("the first run fails");
            }
            return what;
        });
        // ONE worker with ONE slot; the retry waits 3 s: in the worker, it would hold the slot that long.
        TestApp app = TestApp.in(dir).task(task, 1, 2, 3000, 30, 10, "java.slot.Work", "");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            long flaky = harness.add(task, "flaky");
            long steady = harness.add(task, "steady");
            harness.startWorker();
            Map<String, String> waiting = awaitRetried(harness, task, flaky);
            assertEquals("the first run fails", waiting.get("error"));
            assertNull(waiting.get("worker"), "a waiting task has no worker");
            long dueAt = number(waiting, "due_at");
            assertEquals(dueAt, harness.redis.sync().zscore(Keys.of(task).delayed(), Long.toString(flaky)).longValue(),
                    "it waits in the delayed set, due at its due_at");
            TaskInfo asGet = harness.client.get(task, flaky).orElseThrow();
            assertTrue(asGet.status() == TaskStatus.WAITING || flakyRuns.get() > 1, "get shows it WAITING: " + asGet);

            TaskInfo steadyDone = harness.await(task, steady);
            TaskInfo flakyDone = harness.await(task, flaky);
            assertEquals(TaskStatus.SUCCESS, steadyDone.status());
            assertEquals(TaskStatus.SUCCESS, flakyDone.status(), flakyDone.toString());
            assertEquals(2, flakyDone.attempt(), "the second run, fetched like any task");
            assertEquals(2, flakyRuns.get());
            assertTrue(steadyDone.finishedAt() < flakyDone.startedAt(),
                    "the task added after the failing one finished (" + steadyDone.finishedAt()
                            + ") before the failing one's next run started (" + flakyDone.startedAt() + ")");
            assertTrue(steadyDone.startedAt() < dueAt, "the slot took the other task while the failed one waited");
            assertTrue(flakyDone.startedAt() >= dueAt, "the next run started no earlier than due: " + flakyDone.startedAt()
                    + " < " + dueAt);
            assertEquals(1L, harness.runtime.reads().stats(task).get("retried"));
        }
    }

    @Test
    void aRetryWithoutWaitIsFetchedAgainAtOnceWithoutDisturbingTheRunThatRecordedIt() {
        String task = fixture.newTask("nowait");
        AtomicInteger runs = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.nowait.Work", args -> {
            if (runs.incrementAndGet() <= 5) {
                throw new IllegalStateException("failure " + runs.get());
            }
            return runs.get();
        });
        // attempt_after 0 and free slots: the retried task may be fetched by this same worker while
        // the run that recorded the retry is still on its way out.
        TestApp app = TestApp.in(dir).task(task, 4, 5, 0, 30, 10, "java.nowait.Work", "");
        try (Harness harness = Harness.open(app.dir(), registry); LogCapture log = new LogCapture()) {
            harness.startWorker();
            long id = harness.add(task);
            TaskInfo done = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
            assertEquals(6, done.attempt());
            assertEquals(6, runs.get());
            assertEquals(5L, harness.runtime.reads().stats(task).get("retried"));
            assertTrue(!log.contains("fetched again while an older run"), "no run was stopped as superseded: " + log.lines());
        }
    }

    @Test
    void theWaitsOfAnExponentialBackoffGrowAsConfigured() {
        String task = fixture.newTask("expo");
        AtomicInteger runs = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.expo.Work", args -> {
            throw new IllegalStateException("failure " + runs.incrementAndGet());
        });
        // attempt_after 1 s, doubling, capped at 10 s: 1, 2 and 4 s before the three retries.
        TestApp app = TestApp.in(dir).task(task, 2, 3, 1000, 30, 10, "java.expo.Work",
                "\"backoff\": {\"type\": \"exponential\", \"max\": 10000}");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            List<TaskEvent> events = new CopyOnWriteArrayList<>();
            try (var ignored = harness.client.subscribe(task, 1, events::add)) {
                long id = harness.add(task);
                TaskInfo done = harness.client.await(task, id, Duration.ofSeconds(90));
                assertEquals(TaskStatus.FAILURE, done.status());
                assertEquals(4, done.attempt());
                assertEquals("failure 4", done.error());
                Wait.until("the final event", LIMIT, () -> events.stream().anyMatch(TaskEvent::isFinal));
            }
            List<TaskEvent> retries = events.stream().filter(event -> event.event().equals(TaskEvent.RETRY)).toList();
            List<TaskEvent> starts = events.stream().filter(event -> event.event().equals(TaskEvent.STARTED)).toList();
            assertEquals(3, retries.size(), events.toString());
            assertEquals(4, starts.size(), events.toString());
            long[] configured = {1000, 2000, 4000};
            long previous = 0;
            for (int i = 0; i < 3; i++) {
                var retry = retries.get(i).message();
                long wait = retry.path("due_at").asLong() - retry.path("at").asLong();
                assertEquals(configured[i], wait, "the wait before retry " + (i + 1));
                assertTrue(wait > previous, "the waits grow: " + retries);
                previous = wait;
                assertEquals("WAITING", retry.path("status").asText());
                assertEquals(i + 1, retry.path("attempt").asInt(), "the run that failed");
                long nextStart = starts.get(i + 1).message().path("at").asLong();
                assertTrue(nextStart >= retry.path("due_at").asLong(), "run " + (i + 2) + " started before it was due");
            }
            assertEquals(4, runs.get());
        }
    }

    @Test
    void aCanceledRetryEndsInFailureAndNeverRunsAgain() {
        String task = fixture.newTask("cancelretry");
        AtomicInteger runs = new AtomicInteger();
        List<Object> errors = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry()
                .register("java.cancelretry.Work", args -> {
                    throw new IllegalStateException("failure " + runs.incrementAndGet());
                })
                .register("java.cancelretry.OnError", args -> errors.add(args.get(1)));
        TestApp app = TestApp.in(dir).task(task, 1, 2, 3000, 30, 10, "java.cancelretry.Work",
                "\"event\": {\"error\": \"java.cancelretry.OnError\"}");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            long id = harness.add(task);
            long dueAt = number(awaitRetried(harness, task, id), "due_at");
            harness.client.operations().cancel(task, id, "ops");
            TaskInfo canceled = harness.client.get(task, id).orElseThrow();
            assertEquals(TaskStatus.FAILURE, canceled.status());
            assertEquals("canceled by ops", canceled.error());
            assertNull(harness.redis.sync().zscore(Keys.of(task).delayed(), Long.toString(id)), "it left the delayed set");
            Wait.until("its error handler ran", LIMIT, () -> errors.size() == 1);
            // Past its due time (and a few recoverer passes, which move due tasks): it did not run again.
            Wait.until("two seconds past its due time", LIMIT, () -> System.currentTimeMillis() > dueAt + 2000);
            assertEquals(1, runs.get(), "the canceled task never ran again");
            assertEquals(TaskStatus.FAILURE, harness.client.get(task, id).orElseThrow().status());
            assertEquals(1, errors.size(), "its error handler ran once: " + errors);
        }
    }

    @Test
    void aGracefulStopWhileATaskWaitsOutItsBackoffLosesNothing() {
        String task = fixture.newTask("stopwait");
        AtomicInteger runs = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry().register("java.stopwait.Work", args -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("the first run fails");
            }
            return "done";
        });
        TestApp app = TestApp.in(dir).task(task, 1, 1, 3000, 30, 10, "java.stopwait.Work", "");
        try (Harness harness = Harness.open(app.dir(), registry)) {
            Worker first = harness.startWorker();
            long id = harness.add(task);
            awaitRetried(harness, task, id);
            first.close();
            Map<String, String> afterStop = hash(harness, task, id);
            assertEquals("WAITING", afterStop.get("status"), "the waiting task stayed as it was: " + afterStop);
            assertEquals("1", afterStop.get("attempt"));
            assertTrue(harness.redis.sync().zscore(Keys.of(task).delayed(), Long.toString(id)) != null
                    || harness.redis.sync().lrange(Keys.of(task).waiting(), 0, -1).contains(Long.toString(id)),
                    "still delayed, or due and in the queue");
            harness.startWorker();
            TaskInfo done = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
            assertEquals(2, done.attempt());
            assertEquals(2, runs.get());
        }
    }
}
