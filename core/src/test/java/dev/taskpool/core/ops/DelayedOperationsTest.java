package dev.taskpool.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.run.DelayedCheck;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RecoverResult;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What operators see of and do to delayed tasks, against a real Redis (the tasks are delayed by
 * real adds): counts, listings and their pager, a task's due time, run now, and that the other
 * actions, the delayed check of the recoverer and the kind's key types know the delayed set.
 */
class DelayedOperationsTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofSeconds(600);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("ops-delayed");

    private AddStore adds;
    private RunStore runs;
    private TaskOperations operations;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void publish() {
        RedisConnector redis = fixture.redis();
        adds = new AddStore(redis);
        runs = new RunStore(redis);
        operations = new TaskOperations(redis, Clock.fixed(Instant.ofEpochMilli(NOW + 1000), ZoneOffset.UTC));
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        adds.publish(RunStoreTest.definition(task, 100, 1));
    }

    private long ready() {
        return adds.add(task, null, "[\"ready\"]", NOW).id();
    }

    private long delayed(Duration by) {
        return adds.addWith(task, null, "[\"delayed\"]", AddOptions.delay(by), NOW).id();
    }

    private static List<Long> ids(TaskPage page) {
        return page.tasks().stream().map(TaskInfo::id).toList();
    }

    @Test
    void statsCountTheDelayedApartFromTheReadyAndWaitingIsBoth() {
        ready();
        ready();
        long soon = delayed(Duration.ofMinutes(1));
        delayed(Duration.ofMinutes(2));
        delayed(Duration.ofHours(1));
        KindStats stats = operations.stats(task);
        assertEquals(2, stats.ready());
        assertEquals(3, stats.delayed());
        assertEquals(5, stats.waiting(), "waiting counts every WAITING task");

        operations.runNow(task, soon, "ops");
        stats = operations.stats(task);
        assertEquals(3, stats.ready());
        assertEquals(2, stats.delayed());
        assertEquals(5, stats.waiting());
    }

    @Test
    void theOldestReadyTaskThatWasDelayedHasWaitedSinceItFellDueNotSinceItWasAdded() {
        long id = delayed(Duration.ofMinutes(10));
        assertEquals(-1, operations.stats(task).oldestWaitingAgeMs(), "nothing is ready");
        // As a fetch leaves it: the id moved to the queue, due_at kept as history.
        raw.zrem(keys.delayed(), Long.toString(id));
        raw.lpush(keys.waiting(), Long.toString(id));
        raw.hset(keys.task(id), "due_at", Long.toString(NOW + 500));
        assertEquals(500, operations.stats(task).oldestWaitingAgeMs(), "since its due time, on the operator's clock");
    }

    @Test
    void aTaskShowsItsDueTimeWhileDelayedAndKeepsItAsHistory() {
        long id = delayed(Duration.ofMinutes(2));
        TaskInfo info = operations.task(task, id).orElseThrow();
        assertEquals(NOW + 120_000, info.dueAt());
        assertTrue(info.delayedAt(NOW + 1000));
        assertFalse(info.delayedAt(NOW + 120_000), "no longer delayed once the due time is reached");
        assertEquals(NOW + 120_000, info.toJson().path("due_at").asLong(), "get's JSON");
        long plain = ready();
        TaskInfo readyInfo = operations.task(task, plain).orElseThrow();
        assertEquals(0, readyInfo.dueAt());
        assertFalse(readyInfo.toJson().has("due_at"), "no due time, no field: " + readyInfo.toJson());
    }

    @Test
    void waitingListsTheDelayedLatestDueFirstThenTheReadyNewestFirstAcrossPages() {
        long r1 = ready();
        long d1 = delayed(Duration.ofMinutes(3));
        long r2 = ready();
        long d2 = delayed(Duration.ofMinutes(1));
        long d3 = delayed(Duration.ofMinutes(2));
        long r3 = ready();
        List<Long> expected = List.of(d1, d3, d2, r3, r2, r1);
        for (int limit = 1; limit <= 7; limit++) {
            List<Long> listed = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                TaskPage page = operations.list(task, TaskStatus.WAITING, limit, cursor);
                listed.addAll(ids(page));
                cursor = page.nextCursor();
                assertTrue(++pages <= 6, "the pager ends");
                if (cursor != null) {
                    assertEquals(limit, page.tasks().size(), "a page with a cursor is full");
                }
            } while (cursor != null);
            assertEquals(expected, listed, "pages of " + limit);
        }
        TaskPage first = operations.list(task, TaskStatus.WAITING, 2, null);
        assertEquals("d" + (NOW + 120_000) + ":" + d3, first.nextCursor(), "a cursor in the delayed part");
        TaskPage second = operations.list(task, TaskStatus.WAITING, 2, first.nextCursor());
        assertEquals(List.of(d2, r3), ids(second), "a page across both parts");
        assertEquals("w" + r3, second.nextCursor(), "a cursor in the queue part");
    }

    @Test
    void aTaskFallingDueBetweenPagesIsListedOnceAndNoneIsMissed() {
        long r1 = ready();
        long d1 = delayed(Duration.ofMinutes(3));
        long d2 = delayed(Duration.ofMinutes(2));
        long d3 = delayed(Duration.ofMinutes(1));
        TaskPage first = operations.list(task, TaskStatus.WAITING, 1, null);
        assertEquals(List.of(d1), ids(first));
        // The earliest falls due and a fetch moves it to the newest end of the queue, as promoteDue does.
        raw.zrem(keys.delayed(), Long.toString(d3));
        raw.lpush(keys.waiting(), Long.toString(d3));
        List<Long> listed = new ArrayList<>(ids(first));
        String cursor = first.nextCursor();
        while (cursor != null) {
            TaskPage page = operations.list(task, TaskStatus.WAITING, 1, cursor);
            listed.addAll(ids(page));
            cursor = page.nextCursor();
        }
        assertEquals(List.of(d1, d2, d3, r1), listed);
    }

    @Test
    void aCursorThatIsNoWaitingCursorIsRefusedNamingBothForms() {
        TaskpoolException error = assertThrows(TaskpoolException.class,
                () -> operations.list(task, TaskStatus.WAITING, 5, "x12"));
        assertTrue(error.getMessage().contains("d<due>:<id> or w<id>"), error.getMessage());
        assertThrows(TaskpoolException.class, () -> operations.list(task, TaskStatus.WAITING, 5, "d12"));
    }

    @Test
    void runNowPutsADelayedTaskAtTheFrontOfTheQueueSoItIsFetchedNext() {
        ready();
        ready();
        long later = delayed(Duration.ofHours(5));
        delayed(Duration.ofHours(6));
        raw.del(keys.wake());
        operations.runNow(task, later, "ops");
        assertNull(raw.zscore(keys.delayed(), Long.toString(later)), "out of the delayed set");
        assertEquals(Long.toString(later), raw.lindex(keys.waiting(), -1), "at the end workers take from");
        assertEquals(1, raw.llen(keys.wake()), "an idle worker is woken");
        TaskInfo info = operations.task(task, later).orElseThrow();
        assertEquals(TaskStatus.WAITING, info.status());
        assertEquals(NOW + 1000, info.dueAt(), "due now: no longer shown as delayed");
        assertFalse(info.delayedAt(NOW + 1000));
        List<FetchedTask> fetched = runs.fetch(task, 1, NOW + 2000, NOW + 12_000, "w", KEEP).join();
        assertEquals(List.of(later), fetched.stream().map(FetchedTask::id).toList(), "it runs next");
    }

    @Test
    void runNowRefusesEveryTaskThatIsNotDelayedAndWritesNothing() {
        long readyId = ready();
        long running = delayed(Duration.ofHours(1));
        operations.runNow(task, running, null);
        runs.fetch(task, 1, NOW, NOW + 10_000, "w", KEEP).join();
        long finished = delayed(Duration.ofHours(1));
        operations.cancel(task, finished, "ops");
        delayed(Duration.ofHours(2));
        List<String> delayedBefore = raw.zrange(keys.delayed(), 0, -1);

        String missing = assertThrows(ControlException.class, () -> operations.runNow(task, 999, "ops")).getMessage();
        assertTrue(missing.contains("does not exist"), missing);
        String queued = assertThrows(ControlException.class, () -> operations.runNow(task, readyId, "ops")).getMessage();
        assertTrue(queued.contains("is WAITING (ready): only a delayed task"), queued);
        String run = assertThrows(ControlException.class, () -> operations.runNow(task, running, "ops")).getMessage();
        assertTrue(run.contains("is RUNNING"), run);
        String failed = assertThrows(ControlException.class, () -> operations.runNow(task, finished, "ops")).getMessage();
        assertTrue(failed.contains("is FAILURE"), failed);
        assertEquals(delayedBefore, raw.zrange(keys.delayed(), 0, -1), "the delayed set is as it was");
        assertEquals(List.of(Long.toString(readyId)), raw.lrange(keys.waiting(), 0, -1), "the queue is as it was");
    }

    @Test
    void theOtherActionsKnowDelayedTasks() {
        long id = delayed(Duration.ofHours(1));
        // delete refuses it like any WAITING task
        String refused = assertThrows(ControlException.class, () -> operations.delete(task, id)).getMessage();
        assertTrue(refused.contains("is WAITING"), refused);
        // retention never expires a WAITING task
        assertEquals(-1, raw.pttl(keys.task(id)), "no expiry while it waits");
        // a paused kind keeps its delayed tasks, WAITING; resuming wakes a worker for them
        operations.pause(task, "ops");
        raw.del(keys.wake());
        assertEquals(1, operations.stats(task).delayed());
        assertEquals(TaskStatus.WAITING, operations.task(task, id).orElseThrow().status());
        operations.resume(task, "ops");
        assertEquals(1, raw.llen(keys.wake()), "resume wakes a worker although only delayed tasks wait");
    }

    @Test
    void anOperatorsRetryOfAFailedDelayedTaskQueuesItReadyAndForgetsItsDueTime() {
        long id = delayed(Duration.ofHours(1));
        // Left behind in the delayed set by hand (or an older version's cancel): the retry must not queue it twice.
        raw.hset(keys.task(id), "status", "FAILURE");
        raw.zadd(keys.failed(), NOW, Long.toString(id));
        operations.retry(task, id, "ops");
        TaskInfo info = operations.task(task, id).orElseThrow();
        assertEquals(TaskStatus.WAITING, info.status());
        assertEquals(0, info.dueAt(), "no due time any more");
        assertEquals(0, raw.zcard(keys.delayed()));
        assertEquals(List.of(Long.toString(id)), raw.lrange(keys.waiting(), 0, -1));
    }

    @Test
    void theDelayedCheckRemovesEntriesWhoseTaskIsGoneOrNotWaitingAndKeepsTheRest() {
        List<Long> healthy = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            healthy.add(delayed(Duration.ofMinutes(i)));
        }
        long gone = delayed(Duration.ofMinutes(7));
        long finished = delayed(Duration.ofMinutes(8));
        raw.del(keys.task(gone));
        raw.hset(keys.task(finished), "status", "SUCCESS");
        raw.zadd(keys.delayed(), NOW + 1, "abc");
        raw.set(keys.task(424242), "not a hash");
        raw.zadd(keys.delayed(), NOW + 2, "424242");

        DelayedCheck check = new DelayedCheck(fixture.redis());
        Set<String> removed = new HashSet<>();
        long start = 0;
        int calls = 0;
        do {
            DelayedCheck.Window window = check.check(task, start, 3).join();
            window.removed().stream().map(RecoverResult.Dropped::member).forEach(removed::add);
            start = window.nextStart();
            calls++;
        } while (start != 0 && calls < 10);
        assertEquals(Set.of("abc", "424242", Long.toString(gone), Long.toString(finished)), removed,
                "the four dangling entries, one walk over the set in windows of 3");
        assertTrue(calls >= 3, "the walk went in several windows: " + calls);
        assertEquals(healthy.stream().map(String::valueOf).toList(), raw.zrange(keys.delayed(), 0, -1));
        assertEquals("not a hash", raw.get(keys.task(424242)), "only the entry goes, never a key");
        assertEquals(6, operations.stats(task).delayed());
        DelayedCheck.Window again = check.check(task, 0, 100).join();
        assertEquals(List.of(), again.removed(), "nothing more to remove");
        assertEquals(0, again.nextStart(), "a window that reaches the end starts over");
    }

    @Test
    void aDelayedKeyOfTheWrongTypeIsNamedByStatsAndErasureTakesTheDelayedSet() {
        delayed(Duration.ofMinutes(1));
        String other = fixture.newTask("ops-delayed-broken");
        adds.publish(RunStoreTest.definition(other, 10, 1));
        Keys otherKeys = Keys.of(other);
        raw.set(otherKeys.delayed(), "garbage");
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> operations.stats(other));
        assertTrue(error.getMessage().contains(otherKeys.delayed() + " holds a string, expected a sorted set"),
                error.getMessage());
        assertNotNull(operations.overview(other).error(), "the overview row says why");

        operations.erase(task);
        assertEquals(0, raw.exists(keys.delayed()), "erasure takes the delayed set with the rest");
    }
}
