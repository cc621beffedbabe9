package dev.taskpool.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.LeaseLostException;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.TransitionResult;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Reading a kind's counts and listings through the indexes, against a real Redis; time is passed in. */
class TaskOperationsTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofSeconds(600);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("ops");

    private RedisConnector redis;
    private AddStore addStore;
    private RunStore runStore;
    private TaskReads taskReads;
    private TaskOperations operations;
    private RedisClusterCommands<String, String> raw;
    private String task;

    @BeforeEach
    void connect() {
        redis = fixture.redis();
        addStore = new AddStore(redis);
        runStore = new RunStore(redis);
        taskReads = new TaskReads(redis);
        operations = new TaskOperations(redis, Clock.fixed(Instant.ofEpochMilli(NOW + 30_000), ZoneOffset.UTC));
        raw = fixture.raw();
        task = fixture.task();
        addStore.publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO, Duration.ofSeconds(5),
                1000, "scripts.x.Run", TaskEvents.NONE, KEEP));
    }

    private List<Long> add(int count, long at) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(addStore.add(task, null, "[" + i + "]", at).id());
        }
        return ids;
    }

    private List<Long> ids(TaskPage page) {
        return page.tasks().stream().map(TaskInfo::id).toList();
    }

    @Test
    void aPingIsAnsweredAndNamesTheRedisWithoutItsPassword() {
        Duration took = operations.ping(Duration.ofSeconds(10));
        assertFalse(took.isNegative(), "a round trip takes no negative time: " + took);
        assertEquals(redis.describe(), operations.redisDescription());
        assertTrue(operations.redisDescription().startsWith("redis"), operations.redisDescription());
    }

    @Test
    void theKindIsListedAmongTheKinds() {
        assertTrue(operations.kinds().contains(task), "kinds() should list the published kind " + task);
    }

    @Test
    void waitingTasksArePagedNewestFirstWithACursor() {
        add(5, NOW);
        TaskPage first = operations.list(task, TaskStatus.WAITING, 2, null);
        assertEquals(List.of(5L, 4L), ids(first));
        assertNotNull(first.nextCursor(), "a page with more after it gives a cursor");
        TaskPage second = operations.list(task, TaskStatus.WAITING, 2, first.nextCursor());
        assertEquals(List.of(3L, 2L), ids(second));
        TaskPage last = operations.list(task, TaskStatus.WAITING, 2, second.nextCursor());
        assertEquals(List.of(1L), ids(last));
        assertNull(last.nextCursor(), "the last page has no cursor");
    }

    @Test
    void anExactlyFullLastPageHasNoCursor() {
        add(2, NOW);
        TaskPage page = operations.list(task, TaskStatus.WAITING, 2, null);
        assertEquals(List.of(2L, 1L), ids(page));
        assertNull(page.nextCursor(), "nothing is after this page");
    }

    @Test
    void idsWhoseHashExpiredAreSkipped() {
        add(3, NOW);
        raw.del(Keys.of(task).task(2));
        assertEquals(List.of(3L, 1L), ids(operations.list(task, TaskStatus.WAITING, 10, null)));
    }

    @Test
    void finishedTasksAreListedFromTheirIndexesNewestFirst() {
        add(5, NOW);
        List<FetchedTask> runs = runStore.fetch(task, 5, NOW, NOW + 10_000, "w1", KEEP).join();
        assertEquals(5, runs.size());
        assertEquals(5, ids(operations.list(task, TaskStatus.RUNNING, 10, null)).size());
        for (FetchedTask run : runs) {
            TaskStatus status = run.id() % 2 == 0 ? TaskStatus.FAILURE : TaskStatus.SUCCESS;
            runStore.complete(run, status, status == TaskStatus.SUCCESS ? "\"ok\"" : "boom", NOW + run.id(), KEEP).join();
        }
        TaskPage succeeded = operations.list(task, TaskStatus.SUCCESS, 2, null);
        assertEquals(List.of(5L, 3L), ids(succeeded));
        assertEquals(List.of(1L), ids(operations.list(task, TaskStatus.SUCCESS, 2, succeeded.nextCursor())));
        assertEquals(List.of(4L, 2L), ids(operations.list(task, TaskStatus.FAILURE, 10, null)));
        assertTrue(operations.list(task, TaskStatus.RUNNING, 10, null).tasks().isEmpty(), "no task runs any more");
    }

    @Test
    void theLastSuccessIsReadFromTheTailOfTheSucceededIndex() {
        assertEquals(0, taskReads.lastSucceededAt(task, 2), "nothing succeeded yet");
        add(4, NOW);
        List<FetchedTask> runs = runStore.fetch(task, 4, NOW, NOW + 10_000, "w1", KEEP).join();
        // The index holds the runs in the order they were recorded: the last two out of time order,
        // as two round trips in flight at once may land.
        long[] finishedAt = {NOW + 10, NOW + 20, NOW + 40, NOW + 30};
        for (int i = 0; i < runs.size(); i++) {
            runStore.complete(runs.get(i), TaskStatus.SUCCESS, "1", finishedAt[i], KEEP).join();
        }
        assertEquals(NOW + 40, taskReads.lastSucceededAt(task, 2), "the latest of the last two entries");
        assertEquals(NOW + 30, taskReads.lastSucceededAt(task, 1), "only the tail is read");
        assertEquals(NOW + 40, taskReads.lastSucceededAt(task, 100), "an index shorter than asked is read whole");
    }

    /**
     * {@code succeeded} is a list of "<finished_at>:<id>", newest at the right: counted by time (entries
     * past retention not pruned yet do not count), pruned from the left by later finishes and by the
     * recoverer, and paged with a cursor that still works when the task it names was deleted.
     */
    /** Eight SUCCESS tasks: #1-#3 finished at NOW + 1, #4-#8 at NOW + 2 (one finish batch shares its time). */
    private void eightFinished() {
        add(8, NOW);
        List<FetchedTask> runs = runStore.fetch(task, 8, NOW, NOW + 10_000, "w1", KEEP).join();
        for (FetchedTask run : runs) {
            runStore.complete(run, TaskStatus.SUCCESS, "1", run.id() <= 3 ? NOW + 1 : NOW + 2, KEEP).join();
        }
    }

    @Test
    void aPruneBetweenPagesNeitherRepeatsNorSkipsWhatIsLeft() {
        eightFinished();
        TaskPage first = operations.list(task, TaskStatus.SUCCESS, 3, null);
        assertEquals(List.of(8L, 7L, 6L), ids(first));
        raw.lpop(Keys.of(task).succeeded(), 2);   // what a finish past retention does: #1 and #2 go
        TaskPage second = operations.list(task, TaskStatus.SUCCESS, 3, first.nextCursor());
        assertEquals(List.of(5L, 4L, 3L), ids(second), "the page after the cursor, found by value");
        assertNull(second.nextCursor());
    }

    @Test
    void aListALittleOutOfTimeOrderIsPagedOnceEachInListOrder() {
        eightFinished();
        String key = Keys.of(task).succeeded();
        // Two finish calls landed in the other order: #4's entry (later time) before #3's.
        raw.lset(key, 2, (NOW + 2) + ":4");
        raw.lset(key, 3, (NOW + 1) + ":3");
        List<Long> all = new ArrayList<>();
        String cursor = null;
        for (int pages = 0; pages < 20; pages++) {
            TaskPage page = operations.list(task, TaskStatus.SUCCESS, 1, cursor);
            all.addAll(ids(page));
            cursor = page.nextCursor();
            if (cursor == null) {
                break;
            }
        }
        assertEquals(List.of(8L, 7L, 6L, 5L, 3L, 4L, 2L, 1L), all, "each task once, newest first in list order");
    }

    @Test
    void aCursorWhoseEntryWasDeletedSkipsNothingOfItsOwnTime() {
        eightFinished();
        TaskPage first = operations.list(task, TaskStatus.SUCCESS, 3, null);
        assertEquals(List.of(8L, 7L, 6L), ids(first));
        raw.lrem(Keys.of(task).succeeded(), 1, first.nextCursor());   // #6's entry goes (a delete)
        List<Long> rest = new ArrayList<>();
        String cursor = first.nextCursor();
        for (int pages = 0; cursor != null && pages < 10; pages++) {
            TaskPage page = operations.list(task, TaskStatus.SUCCESS, 3, cursor);
            rest.addAll(ids(page));
            cursor = page.nextCursor();
        }
        assertTrue(rest.containsAll(List.of(5L, 4L, 3L, 2L, 1L)), "every task older than the cursor is listed: " + rest);
    }

    @Test
    void aSucceededKeyOverwrittenByHandIsNamedWithWhatItHolds() {
        Keys keys = Keys.of(task);
        raw.set(keys.succeeded(), "garbage");
        TaskpoolException e = assertThrows(TaskpoolException.class, () -> operations.stats(task));
        assertTrue(e.getMessage().contains(keys.succeeded() + " holds a string"), e.getMessage());
    }

    @Test
    void aSucceededSortedSetLeftByAnOlderVersionIsNamedNotAWrongTypeError() {
        Keys keys = Keys.of(task);
        raw.zadd(keys.succeeded(), NOW - 1000, "7");
        for (Runnable read : List.<Runnable>of(() -> operations.stats(task),
                () -> operations.list(task, TaskStatus.SUCCESS, 10, null))) {
            TaskpoolException e = assertThrows(TaskpoolException.class, read::run);
            assertTrue(e.getMessage().contains(keys.succeeded() + " is still the sorted set an older taskpool wrote"),
                    e.getMessage());
        }
    }

    @Test
    void theSucceededListCountsByTimePrunesPastRetentionAndKeepsItsCursor() {
        Keys keys = Keys.of(task);
        long clock = NOW + 30_000;   // the operations' clock
        add(6, NOW);
        List<FetchedTask> runs = runStore.fetch(task, 6, NOW, NOW + 10_000_000, "w1", KEEP).join();
        // #1..#6 finish 20 min, 9 min, 2 min, 50 s, 20 s and 10 s before the clock (retention: 10 min).
        long[] ago = {1_200_000, 540_000, 120_000, 50_000, 20_000, 10_000};
        for (int i = 0; i < runs.size(); i++) {
            runStore.complete(runs.get(i), TaskStatus.SUCCESS, "1", clock - ago[i], KEEP).join();
        }
        assertEquals(List.of(clock - 540_000 + ":2", clock - 120_000 + ":3", clock - 50_000 + ":4", clock - 20_000 + ":5",
                        clock - 10_000 + ":6"), raw.lrange(keys.succeeded(), 0, -1),
                "oldest first; #1's entry, past retention when #2 finished, was pruned by that finish");
        raw.lpush(keys.succeeded(), (clock - 700_000) + ":99");   // past retention, not pruned yet
        KindStats stats = operations.stats(task);
        assertEquals(5, stats.succeededRetained(), "retained: the entries within 10 minutes of the clock");
        assertEquals(3 / 60.0, stats.finishedPerSecondLastMinute(), 1e-9, "#4, #5 and #6 within the last minute");

        TaskPage first = operations.list(task, TaskStatus.SUCCESS, 2, null);
        assertEquals(List.of(6L, 5L), ids(first));
        assertEquals(clock - 20_000 + ":5", first.nextCursor(), "the cursor is the last entry listed");
        operations.delete(task, 5);
        assertEquals(5, raw.llen(keys.succeeded()), "the deleted task's entry is gone: #6, #4, #3, #2 and #99 stay");
        TaskPage second = operations.list(task, TaskStatus.SUCCESS, 2, first.nextCursor());
        assertEquals(List.of(4L, 3L), ids(second), "the next page starts after the deleted cursor's time");
        TaskPage last = operations.list(task, TaskStatus.SUCCESS, 2, second.nextCursor());
        assertEquals(List.of(2L), ids(last), "#99 has no hash: skipped");
        assertNull(last.nextCursor());

        // The recoverer prunes what is past retention, however many: here everything but #6.
        runStore.recover(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO, Duration.ofSeconds(5),
                1000, "scripts.x.Run", TaskEvents.NONE, KEEP), clock - 15_000 + 600_000, 10).join();
        assertEquals(List.of(clock - 10_000 + ":6"), raw.lrange(keys.succeeded(), 0, -1), "pruned by the recoverer");
    }

    @Test
    void statsCountWhatIsWaitingRunningAndFinished() {
        add(4, NOW);
        List<FetchedTask> runs = runStore.fetch(task, 3, NOW + 1000, NOW + 20_000, "w1", KEEP).join();
        runStore.complete(runs.get(0), TaskStatus.SUCCESS, "1", NOW + 2000, KEEP).join();
        runStore.complete(runs.get(1), TaskStatus.FAILURE, "bad", NOW + 2000, KEEP).join();
        KindStats stats = operations.stats(task);
        assertEquals(task, stats.task());
        assertEquals(1, stats.waiting(), "waiting");
        assertEquals(1, stats.running(), "running");
        assertEquals(4, stats.addedTotal(), "added");
        assertEquals(1, stats.succeededTotal(), "succeeded");
        assertEquals(1, stats.failedTotal(), "failed");
        assertEquals(1, stats.succeededRetained(), "succeeded retained in the index");
        assertEquals(1, stats.failedRetained(), "failed retained in the index");
        assertEquals(0, stats.canceled(), "canceled");
        assertFalse(stats.paused(), "paused");
        assertEquals(30_000, stats.oldestWaitingAgeMs(), "the oldest waiting task was added 30 s before the clock");
        assertEquals(2 / 60.0, stats.finishedPerSecondLastMinute(), 1e-9, "two tasks finished within the last minute");
    }

    @Test
    void badInputIsRefusedWithAMessageNamingIt() {
        String never = fixture.newTask("never");
        assertThrows(UnknownTaskException.class, () -> operations.stats(never));
        var limit = assertThrows(IllegalArgumentException.class, () -> operations.list(task, TaskStatus.WAITING, 0, null));
        assertTrue(limit.getMessage().contains("limit 0"), limit.getMessage());
        var cursor = assertThrows(TaskpoolException.class, () -> operations.list(task, TaskStatus.SUCCESS, 5, "nonsense"));
        assertTrue(cursor.getMessage().contains("cursor 'nonsense'"), cursor.getMessage());
    }

    @Test
    void aCanceledWaitingTaskLeavesTheQueueAndEndsFailure() {
        add(2, NOW);
        operations.cancel(task, 1, "ann");
        Keys keys = Keys.of(task);
        assertEquals(List.of("2"), raw.lrange(keys.waiting(), 0, -1), "only task 2 still waits");
        TaskInfo canceled = taskReads.get(task, 1).orElseThrow();
        assertEquals(TaskStatus.FAILURE, canceled.status());
        assertEquals("canceled by ann", canceled.error());
        assertEquals("ann", canceled.canceledBy());
        assertTrue(raw.pttl(keys.task(1)) > 0, "a canceled task expires after its retention like any finished one");
        assertEquals(List.of(1L), ids(operations.list(task, TaskStatus.FAILURE, 10, null)));
        KindStats stats = operations.stats(task);
        assertEquals(1, stats.canceled(), "canceled");
        assertEquals(1, stats.failedTotal(), "a canceled task counts as failed");
        // The kind has no error handler: none is queued.
        assertEquals(0, raw.llen(keys.errorHandlersDue()));
        operations.cancel(task, 2, null);
        assertEquals("canceled", taskReads.get(task, 2).orElseThrow().error(), "without a name the error says just that");
    }

    @Test
    void aCanceledRunningTaskLosesItsLeaseSoItsRunRecordsNothing() {
        add(1, NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 10_000, "w1", KEEP).join().getFirst();
        operations.cancel(task, run.id(), "bob");
        assertEquals(0, raw.zcard(Keys.of(task).leases()), "the lease is gone");
        assertEquals(TransitionResult.LEASE_LOST,
                runStore.complete(run, TaskStatus.SUCCESS, "1", NOW + 1, KEEP).join(), "the run's completion is refused");
        TaskInfo info = taskReads.get(task, run.id()).orElseThrow();
        assertEquals(TaskStatus.FAILURE, info.status());
        assertEquals("canceled by bob", info.error());
        assertEquals(1, operations.stats(task).succeededTotal() + operations.stats(task).failedTotal(), "counted once");
    }

    @Test
    void aRunAfterAnOperatorsRetryNeverHasTheCanceledRunsToken() {
        add(1, NOW);
        FetchedTask canceled = runStore.fetch(task, 1, NOW, NOW + 10_000, "w1", KEEP).join().getFirst();
        operations.cancel(task, 1, "bob");
        assertEquals(List.of(new RunStore.LostLease(1, "canceled by bob")),
                runStore.heartbeat(task, NOW + 20_000, List.of(canceled)).join(), "the heartbeat tells a cancel from a recovery");
        operations.retry(task, 1, "bob");
        FetchedTask again = runStore.fetch(task, 1, NOW + 1, NOW + 10_000, "w1", KEEP).join().getFirst();

        assertEquals(1, again.attempt(), "an operator's retry still starts at run 1");
        assertNotEquals(canceled.token(), again.token(), "the same worker, yet a token of its own");
        assertEquals(List.of(new RunStore.LostLease(1, "canceled")),
                runStore.heartbeat(task, NOW + 20_000, List.of(canceled)).join(), "the canceled run stays lost (and canceled)");
        assertEquals(List.of(), runStore.heartbeat(task, NOW + 20_000, List.of(again)).join(), "the new run holds its lease");
        assertThrows(LeaseLostException.class,
                () -> runStore.progress(task, 1, 1, 2, "stale", NOW + 2, canceled.token()));
        assertEquals(TransitionResult.LEASE_LOST,
                runStore.complete(canceled, TaskStatus.SUCCESS, "\"stale\"", NOW + 3, KEEP).join(),
                "the canceled run cannot end the new one");
        assertEquals(TaskStatus.RUNNING, taskReads.get(task, 1).orElseThrow().status());
        assertEquals(TransitionResult.DONE, runStore.complete(again, TaskStatus.SUCCESS, "\"new\"", NOW + 4, KEEP).join());
        assertEquals("\"new\"", taskReads.get(task, 1).orElseThrow().response().toString());
    }

    @Test
    void theErrorHandlerOfACanceledRunGetsTheCancelsTextAfterARetry() {
        addStore.publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO, Duration.ofSeconds(5),
                1000, "scripts.x.Run", new TaskEvents(null, null, null, "scripts.x.OnError", null), KEEP));
        add(1, NOW);
        runStore.fetch(task, 1, NOW, NOW + 10_000, "w1", KEEP).join();
        operations.cancel(task, 1, "ann");
        operations.retry(task, 1, "ann");
        RunStore.FinishResult fetch = runStore.finish(task, "w1", List.of(), 5, NOW + 1, NOW + 10_000, KEEP).join();
        assertEquals(List.of(new RunStore.DueHandler(1, "canceled by ann")), fetch.errorHandlersDue(),
                "the handler gets the error the cancel gave, though the retry moved it to previous_error");
        assertEquals(List.of(1L), fetch.fetched().stream().map(FetchedTask::id).toList(), "and the retried task runs");
    }

    @Test
    void refusedActionsSayWhichTaskAndWhy() {
        add(1, NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 10_000, "w1", KEEP).join().getFirst();
        runStore.complete(run, TaskStatus.SUCCESS, "1", NOW + 1, KEEP).join();
        add(1, NOW);   // #2, waiting
        assertEquals("task " + task + " 1 is SUCCESS: only a FAILURE task can be retried",
                assertThrows(ControlException.class, () -> operations.retry(task, 1, "ann")).getMessage());
        assertEquals("task " + task + " 1 is SUCCESS: only a WAITING or RUNNING task can be canceled",
                assertThrows(ControlException.class, () -> operations.cancel(task, 1, "ann")).getMessage());
        assertEquals("task " + task + " 2 is WAITING: only a finished (SUCCESS or FAILURE) task can be deleted (cancel it first)",
                assertThrows(ControlException.class, () -> operations.delete(task, 2)).getMessage());
        assertTrue(assertThrows(ControlException.class, () -> operations.retry(task, 99, "ann")).getMessage()
                .startsWith("task " + task + " 99 does not exist"));
        assertTrue(assertThrows(ControlException.class, () -> operations.resume(task, "ann")).getMessage()
                .contains("is not paused"));
        operations.pause(task, "ann");
        assertTrue(assertThrows(ControlException.class, () -> operations.pause(task, "bob")).getMessage()
                .contains("is already paused"));
        assertThrows(UnknownTaskException.class, () -> operations.cancel(fixture.newTask("never"), 1, null));
    }

    @Test
    void aRetriedTaskWaitsAgainWithAFreshRunBudgetAndItsHistory() {
        add(1, NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 10_000, "w1", KEEP).join().getFirst();
        runStore.complete(run, TaskStatus.FAILURE, "boom", NOW + 1, KEEP).join();
        operations.retry(task, 1, "ann");
        Keys keys = Keys.of(task);
        var hash = raw.hgetall(keys.task(1));
        assertEquals("WAITING", hash.get("status"));
        assertEquals("0", hash.get("attempt"), "a fresh run budget");
        assertEquals("boom", hash.get("previous_error"));
        assertEquals("1", hash.get("previous_attempts"));
        assertEquals("1", hash.get("resubmitted"));
        assertEquals("ann", hash.get("resubmitted_by"));
        assertNull(hash.get("error"), "the error belongs to the previous runs now");
        assertEquals(-1, raw.pttl(keys.task(1)), "a waiting task does not expire");
        assertEquals(List.of("1"), raw.lrange(keys.waiting(), 0, -1));
        assertTrue(operations.list(task, TaskStatus.FAILURE, 10, null).tasks().isEmpty(), "it left the failed index");
        TaskInfo info = taskReads.get(task, 1).orElseThrow();
        assertEquals("boom", info.previousError(), "get shows the history");
        assertEquals(1, info.previousAttempts());
        assertEquals(1, info.resubmitted());
        assertEquals("boom", info.toJson().path("previous_error").asText());
        FetchedTask again = runStore.fetch(task, 1, NOW + 2, NOW + 10_000, "w1", KEEP).join().getFirst();
        assertEquals(1, again.attempt(), "its next run is run 1 again");
    }

    @Test
    void retryingAllFailedTakesEveryRetainedFailure() {
        add(ControlScripts.RETRY_STEP + 5, NOW);
        List<FetchedTask> runs = runStore.fetch(task, ControlScripts.RETRY_STEP + 5, NOW, NOW + 10_000, "w1", KEEP).join();
        for (FetchedTask run : runs) {
            runStore.complete(run, TaskStatus.FAILURE, "boom " + run.id(), NOW + 1, KEEP).join();
        }
        raw.del(Keys.of(task).task(3));   // expired: the index forgets it
        assertEquals(ControlScripts.RETRY_STEP + 4, operations.retryFailed(task, "ann"));
        assertEquals(ControlScripts.RETRY_STEP + 4, raw.llen(Keys.of(task).waiting()));
        assertEquals(0, raw.zcard(Keys.of(task).failed()), "the failed index is empty");
        assertEquals(0, operations.retryFailed(task, "ann"), "nothing is left to retry");
    }

    @Test
    void aPausedKindGivesNothingUntilResumed() {
        add(2, NOW);
        Keys keys = Keys.of(task);
        raw.del(keys.wake());
        operations.pause(task, "ann");
        assertTrue(operations.stats(task).paused());
        assertEquals("ann", operations.stats(task).pausedBy());
        assertTrue(runStore.fetch(task, 5, NOW, NOW + 10_000, "w1", KEEP).join().isEmpty(), "a paused kind gives nothing");
        assertEquals(3, addStore.add(task, null, "[]", NOW).id(), "adds are still accepted");
        addStore.publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO, Duration.ofSeconds(5),
                1000, "scripts.x.Run", TaskEvents.NONE, KEEP));
        assertTrue(runStore.fetch(task, 5, NOW, NOW + 10_000, "w1", KEEP).join().isEmpty(),
                "publishing the definition does not resume it");
        raw.del(keys.wake());
        operations.resume(task, "ann");
        assertEquals(1, raw.llen(keys.wake()), "resume wakes an idle worker");
        assertEquals(3, runStore.fetch(task, 5, NOW, NOW + 10_000, "w1", KEEP).join().size());
        assertFalse(operations.stats(task).paused());
    }

    @Test
    void deleteRemovesAFinishedTaskAndItsIndexEntry() {
        add(1, NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 10_000, "w1", KEEP).join().getFirst();
        runStore.complete(run, TaskStatus.SUCCESS, "1", NOW + 1, KEEP).join();
        operations.delete(task, 1);
        assertEquals(0, raw.exists(Keys.of(task).task(1)));
        assertEquals(0, raw.llen(Keys.of(task).succeeded()));
        assertTrue(taskReads.get(task, 1).isEmpty());
    }

    @Test
    void dueErrorHandlersAreHandedOutOnceToOneFetchEvenWhilePausedAndGarbageIsDropped() {
        addStore.publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO, Duration.ofSeconds(5),
                1000, "scripts.x.Run", new TaskEvents(null, null, null, "scripts.x.OnError", null), KEEP));
        add(2, NOW);
        operations.pause(task, "ann");
        operations.cancel(task, 1, "ann");
        raw.lpush(Keys.of(task).errorHandlersDue(), "not-an-id");
        RunStore.FinishResult first = runStore.finish(task, "w1", List.of(), 5, NOW, NOW + 10_000, KEEP).join();
        assertEquals(List.of(new RunStore.DueHandler(1, "canceled by ann")), first.errorHandlersDue());
        assertTrue(first.fetched().isEmpty(), "paused: nothing fetched");
        RunStore.FinishResult second = runStore.finish(task, "w2", List.of(), 5, NOW, NOW + 10_000, KEEP).join();
        assertTrue(second.errorHandlersDue().isEmpty(), "handed out once only");
        assertEquals(0, raw.llen(Keys.of(task).errorHandlersDue()));
    }
}
