package dev.taskpool.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Lua scripts' transitions, against a real Redis; time is passed in, so no test sleeps. */
public class RunStoreTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("store");

    private RedisConnector redis;
    private AddStore addStore;
    private RunStore runStore;
    private TaskReads taskReads;
    private RedisClusterCommands<String, String> raw;
    private String task;

    @BeforeEach
    void connect() {
        redis = fixture.redis();
        addStore = new AddStore(redis);
        runStore = new RunStore(redis);
        taskReads = new TaskReads(redis);
        raw = fixture.raw();
        task = fixture.task();
        addStore.publish(definition(task, 3, 1));
    }

    public static TaskDefinition definition(String id, int size, int attempts) {
        return new TaskDefinition(id, "tasks/" + id + ".yao", "test", 2, attempts, Duration.ZERO, Duration.ofSeconds(5),
                size, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60));
    }

    private List<String> keysOfTask() {
        return raw.scan(ScanArgs.Builder.matches("taskpool:{" + task + "}:*").limit(1000)).getKeys();
    }

    @Test
    void publishedDefinitionsAreReadableAndRegistered() {
        Map<String, String> fields = addStore.publishedDefinition(task).orElseThrow();
        assertEquals("3", fields.get("size"));
        assertEquals("1", fields.get("attempts"));
        assertEquals("60", fields.get("keep"));
        assertTrue(raw.sismember(Keys.TASK_REGISTRY, task));
    }

    @Test
    void addingToAnUnpublishedTaskIsAnUnknownTaskError() {
        String never = fixture.newTask("never");
        UnknownTaskException error = assertThrows(UnknownTaskException.class, () -> addStore.add(never, null, "[]", NOW));
        assertTrue(error.getMessage().contains("unknown task '" + never + "'"), error.getMessage());
        assertTrue(raw.keys("taskpool:{" + never + "}:*").isEmpty());
    }

    @Test
    void defaultIdsCountUpAndTheRecordIsPlainForRedisCli() {
        assertEquals(1, addStore.add(task, null, "[\"a\"]", NOW).id());
        assertEquals(2, addStore.add(task, null, "[\"b\"]", NOW).id());
        Map<String, String> hash = raw.hgetall(Keys.of(task).task(1));
        assertEquals("WAITING", hash.get("status"));
        assertEquals("[\"a\"]", hash.get("args"));
        assertEquals(Long.toString(NOW), hash.get("created_at"));
        // A new task holds only what it has: progress and attempt are written when they change, and the
        // task and id are in the key's name only.
        assertEquals(Set.of("status", "args", "created_at"), hash.keySet(), "the fields of a new task");
        TaskInfo read = taskReads.get(task, 1).orElseThrow();
        assertEquals(task, read.task(), "get names the task from the key");
        assertEquals(1, read.id(), "get reads the id from the key");
        assertEquals(0, read.attempt(), "a missing attempt reads as 0");
        assertEquals(0, read.current(), "a missing current reads as 0");
        assertEquals(0, read.total(), "a missing total reads as 0");
        assertEquals("", read.message(), "a missing message reads as empty");
        assertTrue(Keys.of(task).task(1).startsWith("taskpool:{" + task + "}:"));
    }

    @Test
    void anAddNeverOverwritesAnExistingTask() {
        addStore.add(task, 7L, "[\"first\"]", NOW);
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> addStore.add(task, 7L, "[\"second\"]", NOW));
        assertTrue(error.getMessage().contains("id 7 already exists"), error.getMessage());
        assertEquals("[\"first\"]", raw.hget(Keys.of(task).task(7), "args"));
        assertEquals(1, raw.llen(Keys.of(task).waiting()));
        // the default counter moved past the explicit id, so default ids never land on it
        assertEquals(8, addStore.add(task, null, "[]", NOW).id());
    }

    @Test
    void aFullQueueRefusesWithZeroAndWritesNothing() {
        for (int i = 0; i < 3; i++) {
            assertFalse(addStore.add(task, null, "[]", NOW).isQueueFull());
        }
        List<String> before = keysOfTask();
        String sequence = raw.get(Keys.of(task).sequence());
        AddResult refused = addStore.add(task, null, "[]", NOW);
        assertTrue(refused.isQueueFull());
        assertEquals(0, refused.id());
        assertEquals(before.size(), keysOfTask().size());
        assertEquals(sequence, raw.get(Keys.of(task).sequence()));
        assertEquals(3, raw.llen(Keys.of(task).waiting()));
    }

    @Test
    void fetchTakesOldestFirstUnderALeaseAndCompleteNeedsTheToken() throws Exception {
        addStore.add(task, null, "[1]", NOW);
        addStore.add(task, null, "[2]", NOW);
        List<FetchedTask> fetched = runStore.fetch(task, 5, NOW, NOW + 10_000, "w1", KEEP).get();
        assertEquals(List.of(1L, 2L), fetched.stream().map(FetchedTask::id).toList());
        FetchedTask first = fetched.getFirst();
        assertEquals(1, first.attempt());
        assertEquals("w1/1", first.token());
        assertEquals("[1]", first.args());
        assertEquals(TaskStatus.RUNNING, taskReads.get(task, 1).orElseThrow().status());
        assertEquals((double) NOW + 10_000, raw.zscore(Keys.of(task).leases(), "1"));

        FetchedTask impostor = new FetchedTask(task, 1, 1, "[1]", "w2/1");
        assertEquals(TransitionResult.LEASE_LOST,
                runStore.complete(impostor, TaskStatus.SUCCESS, "{}", NOW, Duration.ofSeconds(60)).get());
        assertEquals(TransitionResult.DONE,
                runStore.complete(first, TaskStatus.SUCCESS, "{\"ok\":true}", NOW + 5, Duration.ofSeconds(60)).get());
        TaskInfo done = taskReads.get(task, 1).orElseThrow();
        assertEquals(TaskStatus.SUCCESS, done.status());
        assertEquals(true, done.response().get("ok").asBoolean());
        assertEquals(NOW + 5, done.finishedAt());
        assertNull(raw.zscore(Keys.of(task).leases(), "1"));
        long ttl = raw.pttl(Keys.of(task).task(1));
        assertTrue(ttl > 50_000 && ttl <= 60_000, "retention ttl " + ttl);
    }

    @Test
    void progressIsRecordedAndRefusedForUnknownOrFinishedTasks() throws Exception {
        addStore.add(task, null, "[]", NOW);
        runStore.progress(task, 1, 3, 10, "three", NOW);
        TaskInfo info = taskReads.get(task, 1).orElseThrow();
        assertEquals(3, info.current());
        assertEquals(10, info.total());
        assertEquals("three", info.message());
        UnknownTaskException unknown = assertThrows(UnknownTaskException.class, () -> runStore.progress(task, 99, 1, 1, "", NOW));
        assertTrue(unknown.getMessage().contains("#99 does not exist"));
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        runStore.complete(run, TaskStatus.FAILURE, "boom", NOW, Duration.ofSeconds(60)).get();
        TaskpoolException finished = assertThrows(TaskpoolException.class, () -> runStore.progress(task, 1, 5, 10, "", NOW));
        assertTrue(finished.getMessage().contains("already finished"));
        assertEquals("boom", taskReads.get(task, 1).orElseThrow().error());
    }

    @Test
    void recoveryRequeuesExpiredLeasesAndFailsTasksOutOfRuns() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run1 = runStore.fetch(task, 1, NOW, NOW + 1000, "dead", KEEP).get().getFirst();
        RecoverResult early = runStore.recover(task, NOW + 999, 10).get();
        assertEquals(0, early.requeued());
        RecoverResult first = runStore.recover(task, NOW + 1001, 10).get();
        assertEquals(1, first.requeued());
        TaskInfo waiting = taskReads.get(task, 1).orElseThrow();
        assertEquals(TaskStatus.WAITING, waiting.status());
        assertTrue(waiting.error().contains("lease expired: worker dead"), waiting.error());
        // the dead worker can no longer complete it
        assertEquals(TransitionResult.LEASE_LOST,
                runStore.complete(run1, TaskStatus.SUCCESS, "{}", NOW, Duration.ofSeconds(1)).get());
        FetchedTask run2 = runStore.fetch(task, 1, NOW + 2000, NOW + 3000, "dead-too", KEEP).get().getFirst();
        assertEquals(2, run2.attempt());
        RecoverResult second = runStore.recover(task, NOW + 3001, 10).get();
        assertEquals(List.of(1L), second.failed());
        assertEquals(TaskStatus.FAILURE, taskReads.get(task, 1).orElseThrow().status());
        // The lost run's completion, should it still come, is refused: the hash still names its worker
        // and attempt, but the recoverer ended the task, not the run.
        assertEquals(TransitionResult.LEASE_LOST,
                runStore.complete(run2, TaskStatus.SUCCESS, "{}", NOW + 3002, Duration.ofSeconds(1)).get(),
                "a completion after the recoverer failed the task");
        assertTrue(taskReads.get(task, 1).orElseThrow().error().startsWith("lease expired: worker dead-too"),
                "the recoverer's error stays");
    }

    /**
     * With `def` deleted by hand while workers run, recovery counted on no retries at all: a task with
     * runs left ended in FAILURE after one lost run. The recovering worker's own definition fills in.
     */
    @Test
    void recoveryWithTheDefinitionDeletedUsesTheWorkersOwnDefinition() throws Exception {
        addStore.add(task, null, "[]", NOW);
        runStore.fetch(task, 1, NOW, NOW + 1000, "dead", KEEP).get();
        redis.sync().del(Keys.of(task).definition());
        RecoverResult result = runStore.recover(definition(task, 3, 1), NOW + 1001, 10).get();
        assertEquals(1, result.requeued(), "requeued, not failed: " + result.failed());
        assertEquals(TaskStatus.WAITING, taskReads.get(task, 1).orElseThrow().status());
        // Its second run is its last (attempts 1): lost too, it fails.
        runStore.fetch(task, 1, NOW + 2000, NOW + 3000, "dead-too", KEEP).get();
        assertEquals(List.of(1L), runStore.recover(definition(task, 3, 1), NOW + 3001, 10).get().failed());
    }

    @Test
    void heartbeatExtendsOwnLeasesAndReportsLostOnes() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(List.of(), runStore.heartbeat(task, NOW + 5000, List.of(run)).get());
        assertEquals((double) NOW + 5000, raw.zscore(Keys.of(task).leases(), "1"));
        FetchedTask stale = new FetchedTask(task, 1, 1, "[]", "other/1");
        assertEquals(List.of(new RunStore.LostLease(1, null)), runStore.heartbeat(task, NOW + 9000, List.of(stale)).get(),
                "lost, and not to a cancel");
    }

    @Test
    void releaseHandsATaskBackWithoutCountingTheRun() throws Exception {
        addStore.add(task, null, "[]", NOW);
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(TransitionResult.DONE, runStore.release(run, NOW).get());
        TaskInfo info = taskReads.get(task, 1).orElseThrow();
        assertEquals(TaskStatus.WAITING, info.status());
        assertEquals(0, info.attempt());
        // handed back to the front: it runs next
        assertEquals(1L, runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst().id());
    }

    @Test
    void aTaskFetchedAgainByTheSameWorkerNeverGetsAnEarlierRunsToken() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask first = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(TransitionResult.DONE, runStore.retry(first, "boom", NOW, Duration.ZERO, true).get());
        FetchedTask second = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(TransitionResult.DONE, runStore.release(second, NOW).get());
        // The handed-back run gives its attempt back, so the next fetch is run 2 again; its lease is new.
        FetchedTask third = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(2, third.attempt());
        assertEquals(List.of("w/1", "w/2", "w/3"), List.of(first.token(), second.token(), third.token()));
        assertEquals(TransitionResult.LEASE_LOST, runStore.complete(second, TaskStatus.SUCCESS, "1", NOW, KEEP).get(),
                "the handed-back run's token holds nothing any more");
        assertEquals(TransitionResult.LEASE_LOST, runStore.complete(first, TaskStatus.SUCCESS, "1", NOW, KEEP).get(),
                "nor the retried run's");
        assertEquals(TransitionResult.DONE, runStore.complete(third, TaskStatus.SUCCESS, "1", NOW, KEEP).get());
        assertEquals("3", raw.hget(Keys.of(task).task(1), "lease_seq"), "the task's lease count");
    }

    @Test
    void scriptsAreLoadedAgainAfterRedisForgetsThem() {
        raw.scriptFlush();
        assertEquals(1, addStore.add(task, null, "[]", NOW).id());
    }

    @Test
    void garbageInATaskHashIsAnErrorNamingTheField() {
        addStore.add(task, null, "[]", NOW);
        raw.hset(Keys.of(task).task(1), "status", "DANCING");
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> taskReads.get(task, 1));
        assertTrue(error.getMessage().contains("field 'status' holds 'DANCING'"), error.getMessage());
        raw.hset(Keys.of(task).task(1), Map.of("status", "WAITING", "current", "lots"));
        error = assertThrows(TaskpoolException.class, () -> taskReads.get(task, 1));
        assertTrue(error.getMessage().contains("field 'current' holds 'lots'"), error.getMessage());
    }

    @Test
    void aReSentFetchTakesNothingMoreAndReturnsTheSameRuns() throws Exception {
        Keys keys = Keys.of(task);
        for (int i = 0; i < 3; i++) {
            addStore.add(task, null, "[" + i + "]", NOW);
        }
        String[] scriptKeys = RunStore.finishKeys(keys, "w");
        String[] args = {Long.toString(NOW), task, keys.eventsPrefix(), "60000", "w", "2", Long.toString(NOW + 1000),
                "fetch-1", "5000", "0", "heard"};
        List<Object> first = new ScriptRunner(redis.async()).run(LuaScript.FINISH, scriptKeys, args).get();
        List<Object> again = new ScriptRunner(redis.async()).run(LuaScript.FINISH, scriptKeys, args).get();
        assertEquals(List.of(0L, 0L, 0L, "1", 1L, "[0]", NOW, 1L, "2", 1L, "[1]", NOW, 1L), first,
                "nothing delayed, no due error handler, then the runs taken (id, attempt, args, created_at, lease number)");
        assertEquals(first, again);
        assertEquals(1, raw.llen(keys.waiting()), "the third task still waits");
    }

    @Test
    void aReSentFetchHandsOutTheSameDueErrorHandlersWhateverTheirText() throws Exception {
        Keys keys = Keys.of(task);
        addStore.add(task, null, "[]", NOW);
        raw.hset(keys.task(1), "error", "canceled by old");
        // A cancel's entry carries its error (any text); a bare id was queued by an older cancel
        // script and takes the task's error; anything else was written by hand and is dropped.
        raw.lpush(keys.errorHandlersDue(), "7:canceled by ann, \"the boss\"", "1", "oops");
        String[] scriptKeys = RunStore.finishKeys(keys, "w");
        String[] args = {Long.toString(NOW), task, keys.eventsPrefix(), "60000", "w", "1", Long.toString(NOW + 1000),
                "fetch-1", "5000", "0", "heard"};
        List<Object> first = new ScriptRunner(redis.async()).run(LuaScript.FINISH, scriptKeys, args).get();
        List<Object> again = new ScriptRunner(redis.async()).run(LuaScript.FINISH, scriptKeys, args).get();
        assertEquals(List.of(2L, "7", "canceled by ann, \"the boss\"", "1", "canceled by old"), first.subList(2, 7));
        assertEquals(first, again, "a re-sent fetch gets the same handlers and runs");
        assertEquals(0, raw.llen(keys.errorHandlersDue()));
    }

    @Test
    void garbageInALeaseCountFailsThatTaskAndNotTheFetch() throws Exception {
        addStore.add(task, null, "[]", NOW);
        addStore.add(task, null, "[]", NOW);
        raw.hset(Keys.of(task).task(1), "lease_seq", "many");
        List<FetchedTask> fetched = runStore.fetch(task, 2, NOW, NOW + 1000, "w", KEEP).get();
        assertEquals(List.of(2L), fetched.stream().map(FetchedTask::id).toList());
        assertEquals("the task hash holds lease_seq 'many', expected an integer from 0", taskReads.get(task, 1).orElseThrow().error());
    }

    @Test
    void aReSentCompletionOrRetryIsDoneOnceAndCountedOnce() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(TransitionResult.DONE, runStore.retry(run, "boom", NOW, Duration.ZERO, true).get());
        assertEquals(TransitionResult.DONE, runStore.retry(run, "boom", NOW, Duration.ZERO, true).get());
        assertEquals(1, raw.llen(Keys.of(task).waiting()), "queued once");
        FetchedTask next = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(2, next.attempt());
        assertEquals(TransitionResult.DONE, runStore.retry(run, "boom", NOW, Duration.ZERO, true).get(),
                "re-sent after the next run started: still recognised, and nothing written");
        assertEquals(TaskStatus.RUNNING, taskReads.get(task, 1).orElseThrow().status());
        assertEquals(TransitionResult.DONE, runStore.complete(next, TaskStatus.SUCCESS, "1", NOW, KEEP).get());
        assertEquals(TransitionResult.DONE, runStore.complete(next, TaskStatus.SUCCESS, "1", NOW, KEEP).get());
        Map<String, Long> stats = taskReads.stats(task);
        assertEquals(1, stats.get("succeeded"));
        assertEquals(1, stats.get("retried"));
        assertEquals(1, stats.get("added"));
    }

    @Test
    void garbageWrittenIntoAWaitingTaskFailsThatTaskAndNotTheFetch() throws Exception {
        addStore.add(task, null, "[]", NOW);
        addStore.add(task, null, "[]", NOW);
        addStore.add(task, null, "[]", NOW);
        raw.hset(Keys.of(task).task(1), "status", "DANCING");
        raw.hset(Keys.of(task).task(2), "attempt", "many");
        List<FetchedTask> fetched = runStore.fetch(task, 3, NOW, NOW + 1000, "w", KEEP).get();
        assertEquals(List.of(3L), fetched.stream().map(FetchedTask::id).toList());
        Map<String, String> first = raw.hgetall(Keys.of(task).task(1));
        assertEquals("FAILURE", first.get("status"));
        assertEquals("the task hash holds status 'DANCING', expected WAITING", first.get("error"));
        Map<String, String> second = raw.hgetall(Keys.of(task).task(2));
        assertEquals("FAILURE", second.get("status"));
        assertEquals("the task hash holds attempt 'many', expected an integer from 0", second.get("error"));
        assertEquals(2, taskReads.stats(task).get("failed"));
    }

    @Test
    void countersOutliveTheTasksThemselves() throws Exception {
        addStore.publish(new TaskDefinition(task, "tasks/x.yao", "test", 2, 0, Duration.ZERO, Duration.ofSeconds(5), 3,
                "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(1)));
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        runStore.complete(run, TaskStatus.SUCCESS, "1", NOW, Duration.ofMillis(1)).get();
        Thread.sleep(20);
        assertTrue(taskReads.get(task, 1).isEmpty(), "the finished task expired after its retention");
        assertEquals(1, taskReads.stats(task).get("succeeded"));
        assertEquals(1, taskReads.stats(task).get("added"));
    }

    @Test
    void aBatchAddIsAllOrNothing() {
        addStore.publish(definition(task, 4, 1));
        List<Long> ids = addStore.addAll(task, List.of(new NewTask(null, "[1]"), new NewTask(null, "[2]")), NOW);
        assertEquals(List.of(1L, 2L), ids);
        List<String> before = keysOfTask();
        // size is 4: three more do not fit, so none is added
        assertEquals(List.of(), addStore.addAll(task, List.of(new NewTask(null, "[3]"), new NewTask(null, "[4]"),
                new NewTask(null, "[5]")), NOW));
        assertEquals(before.size(), keysOfTask().size());
        // an id that is taken refuses the whole batch
        TaskpoolException taken = assertThrows(TaskpoolException.class, () -> addStore.addAll(task,
                List.of(new NewTask(null, "[5]"), new NewTask(2L, "[6]")), NOW));
        assertTrue(taken.getMessage().contains("id 2 already exists"), taken.getMessage());
        TaskpoolException twice = assertThrows(TaskpoolException.class, () -> addStore.addAll(task,
                List.of(new NewTask(9L, "[5]"), new NewTask(9L, "[6]")), NOW));
        assertTrue(twice.getMessage().contains("id 9 already exists"), twice.getMessage());
        assertEquals(before.size(), keysOfTask().size());
        assertEquals(2, raw.llen(Keys.of(task).waiting()));
    }

    /** A `succeeded` sorted set left by an older taskpool becomes the list at the first finish, entries kept. */
    @Test
    void anOlderSucceededSortedSetBecomesTheList() throws Exception {
        Keys keys = Keys.of(task);
        raw.zadd(keys.succeeded(), NOW - 2000, "7");
        raw.zadd(keys.succeeded(), NOW - 1000, "8");
        addStore.add(task, 10L, "[]", NOW);
        FetchedTask run = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        assertEquals(TransitionResult.DONE, runStore.complete(run, TaskStatus.SUCCESS, "1", NOW + 5, KEEP).get());
        assertEquals("list", raw.type(keys.succeeded()));
        assertEquals(List.of((NOW - 2000) + ":7", (NOW - 1000) + ":8", (NOW + 5) + ":10"),
                raw.lrange(keys.succeeded(), 0, -1), "oldest first, the older entries kept");
    }

    @Test
    void explicitIdsMoveTheCounterPastThem() {
        addStore.add(task, 10L, "[]", NOW);
        assertEquals(11, addStore.add(task, null, "[]", NOW).id());
    }

    @Test
    void oneRoundTripEndsABatchOfRunsAndTakesTheNext() throws Exception {
        for (int i = 0; i < 3; i++) {
            addStore.add(task, null, "[" + i + "]", NOW);
        }
        List<FetchedTask> first = runStore.fetch(task, 2, NOW, NOW + 1000, "w", KEEP).get();
        FetchedTask stale = new FetchedTask(task, 1, 1, "[0]", "other/1");
        RunStore.FinishResult result = runStore.finish(task, "w", List.of(
                new RunStore.Completion(first.get(0), TaskStatus.SUCCESS, "{\"n\":0}"),
                new RunStore.Completion(first.get(1), TaskStatus.FAILURE, "bad \"input\""),
                new RunStore.Completion(first.get(0), TaskStatus.SUCCESS, "{\"n\":0}"),
                new RunStore.Completion(stale, TaskStatus.SUCCESS, "1")), 5, NOW + 10, NOW + 1000, KEEP).get();
        assertEquals(List.of(TransitionResult.DONE, TransitionResult.DONE, TransitionResult.DONE, TransitionResult.LEASE_LOST),
                result.ended(), "a repeated completion is done already; a token that never held the lease is refused");
        assertEquals(List.of(3L), result.fetched().stream().map(FetchedTask::id).toList());
        assertEquals("bad \"input\"", taskReads.get(task, 2).orElseThrow().error());
        assertEquals(0, taskReads.get(task, 1).orElseThrow().response().get("n").asInt());
        assertEquals(1, raw.zcard(Keys.of(task).leases()));
        Map<String, Long> stats = taskReads.stats(task);
        assertEquals(1, stats.get("succeeded"));
        assertEquals(1, stats.get("failed"));
    }
}
