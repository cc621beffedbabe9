package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.run.DelayedCheck;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.LeaseLostException;
import dev.taskpool.core.run.RecoverResult;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.LocalRedis;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Redis does not undo a script that fails half-way, so every script checks what can fail before
 * its first write: a key of the wrong type is an error naming the key, and nothing changes. A
 * queue entry that is no task is dropped on its own. Against a real Redis; time is passed in.
 */
class ScriptIntegrityTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofSeconds(60);
    /** The id of the delayed task the run-now and delayed-check cases add. */
    private static final long DELAYED_ID = 77;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("integrity");

    private RedisConnector redis;
    private AddStore addStore;
    private RunStore runStore;
    private TaskReads taskReads;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;
    private FetchedTask running;

    @BeforeEach
    void setUp() throws Exception {
        redis = fixture.redis();
        addStore = new AddStore(redis);
        runStore = new RunStore(redis);
        taskReads = new TaskReads(redis);
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        addStore.publish(RunStoreTest.definition(task, 10, 2));
        for (int i = 0; i < 3; i++) {
            addStore.add(task, null, "[" + i + "]", NOW);
        }
        running = runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst();
        runStore.retry(running, running.nextRun(), "first run failed", NOW, NOW + 1000, "{}").get();
        running = running.nextRun();
        runStore.complete(runStore.fetch(task, 1, NOW, NOW + 1000, "w", KEEP).get().getFirst(), TaskStatus.SUCCESS, "1", NOW,
                KEEP).get();   // so that the counters hold something
    }

    /** Every key of the task kind with its content (DUMP), to show that a refused call changed nothing. */
    private Map<String, String> snapshot() {
        Map<String, String> all = new TreeMap<>();
        for (String key : raw.scan(ScanArgs.Builder.matches("taskpool:{" + task + "}:*").limit(1000)).getKeys()) {
            all.put(key, HexFormat.of().formatHex(raw.dump(key)));
        }
        return all;
    }

    private String key(String name) {
        return switch (name) {
            case "waiting" -> keys.waiting();
            case "leases" -> keys.leases();
            case "wake" -> keys.wake();
            case "stats" -> keys.stats();
            case "def" -> keys.definition();
            case "claim" -> keys.claim("w");
            case "task" -> keys.task(running.id());
            case "succeeded" -> keys.succeeded();
            case "failed" -> keys.failed();
            case "due" -> keys.errorHandlersDue();
            case "delayed" -> keys.delayed();
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** The call of one script, as the worker makes it. */
    private Object call(String script) throws Exception {
        return switch (script) {
            case "fetch" -> runStore.fetch(task, 5, NOW, NOW + 1000, "w", KEEP).get();
            case "complete" -> runStore.complete(running, TaskStatus.SUCCESS, "\"done\"", NOW, KEEP).get();
            case "heartbeat" -> runStore.heartbeat(task, NOW + 5000, List.of(running)).get();
            case "recover" -> runStore.recover(task, NOW + 60_000, 10).get();
            case "retry" -> runStore.retry(running, running.nextRun(), "boom", NOW, NOW + 1000, "{}").get();
            case "release" -> runStore.release(running, NOW).get();
            case "progress" -> {
                runStore.progress(task, running.id(), 1, 2, "half", NOW, running.token());
                yield null;
            }
            case "cancel" -> {
                new TaskOperations(redis).cancel(task, running.id(), "ops");
                yield null;
            }
            case "retryFailed" -> new TaskOperations(redis).retryFailed(task, "ops");
            case "resume" -> {
                new TaskOperations(redis).resume(task, "ops");
                yield null;
            }
            case "delete" -> {
                new TaskOperations(redis).delete(task, 2);
                yield null;
            }
            case "runNow" -> {
                new TaskOperations(redis).runNow(task, DELAYED_ID, "ops");
                yield null;
            }
            case "healDelayed" -> new DelayedCheck(redis).check(task, 0, 10).get();
            default -> throw new IllegalArgumentException(script);
        };
    }

    private static String messageOf(Throwable error) {
        Throwable shown = error instanceof ExecutionException && error.getCause() != null ? error.getCause() : error;
        return String.valueOf(shown.getMessage());
    }

    @ParameterizedTest(name = "{0} with {1} holding a string")
    @CsvSource({
            "fetch, waiting", "fetch, leases", "fetch, wake", "fetch, claim", "fetch, stats",
            "complete, leases", "complete, stats",
            "heartbeat, leases",
            "recover, leases", "recover, waiting", "recover, wake", "recover, def", "recover, stats",
            "retry, task", "retry, leases", "retry, stats",
            "release, task", "release, leases", "release, waiting", "release, wake",
            "progress, task",
            "complete, succeeded", "fetch, due", "recover, failed",
            "cancel, task", "cancel, leases", "cancel, failed", "cancel, stats", "cancel, due", "cancel, def",
            "retryFailed, waiting", "retryFailed, failed", "retryFailed, stats",
            "resume, wake", "resume, waiting",
            "delete, succeeded", "delete, failed",
            "retryFailed, delayed", "resume, delayed",
            "runNow, delayed", "runNow, waiting", "runNow, wake",
            "healDelayed, delayed",
    })
    void aWrongTypedKeyIsAnErrorNamingItAndChangesNothing(String script, String broken) throws Exception {
        if (script.equals("runNow") || script.equals("healDelayed")) {
            // a delayed task for it to act on, added before the key breaks
            addStore.addWith(task, DELAYED_ID, "[]", AddOptions.delay(Duration.ofHours(1)), NOW);
        }
        String key = key(broken);
        raw.del(key);
        raw.set(key, "garbage");
        if (script.equals("resume")) {
            raw.set(keys.paused(), "{}");   // paused, so that only the broken key can refuse it
        }
        Map<String, String> before = snapshot();
        Exception error = assertThrows(Exception.class, () -> call(script));
        String message = messageOf(error);
        assertTrue(message.contains(key + " holds a string, expected a"), script + ": the error names the key: " + message);
        assertTrue(message.contains("nothing was changed"), message);
        assertEquals(before, snapshot(), script + " changed something although it failed");
    }

    @Test
    void aFetchWithABrokenLeasesKeyLeavesNoTaskRunningAndWorksOnceRepaired() throws Exception {
        // The reported case: the fetch used to mark tasks RUNNING and then fail on `leases`.
        raw.del(keys.leases());
        raw.set(keys.leases(), "garbage");
        assertThrows(ExecutionException.class, () -> runStore.fetch(task, 5, NOW, NOW + 1000, "w2", KEEP).get());
        assertEquals(TaskStatus.WAITING, taskReads.get(task, 3).orElseThrow().status());
        raw.del(keys.leases());
        List<FetchedTask> fetched = runStore.fetch(task, 5, NOW, NOW + 1000, "w2", KEEP).get();
        assertEquals(List.of(3L), fetched.stream().map(FetchedTask::id).toList());
        assertEquals(TaskStatus.RUNNING, taskReads.get(task, 3).orElseThrow().status());
    }

    @Test
    void aCounterHoldingGarbageIsAnErrorNamingTheFieldAndChangesNothing() throws Exception {
        raw.hset(keys.stats(), "succeeded", "lots");
        Map<String, String> before = snapshot();
        ExecutionException error = assertThrows(ExecutionException.class,
                () -> runStore.complete(running, TaskStatus.SUCCESS, "1", NOW, KEEP).get());
        assertTrue(messageOf(error).contains(keys.stats() + " field succeeded holds 'lots', expected an integer"),
                messageOf(error));
        assertEquals(before, snapshot());
    }

    @Test
    void aDefinitionKeyOfTheWrongTypeStopsPublishingWithItsName() {
        raw.del(keys.definition());
        raw.set(keys.definition(), "garbage");
        TaskpoolException error = assertThrows(TaskpoolException.class,
                () -> addStore.publish(RunStoreTest.definition(task, 10, 2)));
        assertTrue(error.getMessage().contains("key " + keys.definition() + " holds a string, expected a hash"),
                error.getMessage());
        assertEquals("garbage", raw.get(keys.definition()));
    }

    @Test
    void garbageIdsInTheQueueAreDroppedOnTheirOwn() throws Exception {
        // 'abc' even has a hash that looks waiting: it still is no task id (events and workers need integers)
        raw.hset(keys.taskPrefix() + "abc", Map.of("status", "WAITING", "attempt", "0", "args", "[]"));
        raw.set(keys.task(77), "not a hash");
        raw.lpush(keys.waiting(), "abc", "007", "1.5", "77");
        raw.rpush(keys.waiting(), "-4");   // taken first
        List<FetchedTask> fetched = runStore.fetch(task, 10, NOW, NOW + 1000, "w3", KEEP).get();
        assertEquals(List.of(3L), fetched.stream().map(FetchedTask::id).toList(), "the real task is fetched");
        assertEquals(0, raw.llen(keys.waiting()), "every garbage entry left the queue");
        assertEquals("WAITING", raw.hget(keys.taskPrefix() + "abc", "status"), "no run started for 'abc'");
        assertEquals("not a hash", raw.get(keys.task(77)));
        assertEquals(TaskStatus.RUNNING, taskReads.get(task, 3).orElseThrow().status());
    }

    @Test
    void garbageMembersOfTheLeasesAreRemovedOnTheirOwnAndRecoveryGoesOn() throws Exception {
        raw.zadd(keys.leases(), 1, "abc");
        raw.set(keys.task(55), "not a hash");
        raw.zadd(keys.leases(), 2, "55");
        RecoverResult result = runStore.recover(task, NOW + 60_000, 10).get();
        assertEquals(1, result.requeued(), "the real expired lease was recovered");
        assertEquals(List.of("abc", "55"), result.dropped().stream().map(RecoverResult.Dropped::member).toList());
        assertTrue(result.dropped().get(1).reason().contains(keys.task(55) + " holds a string, not a task hash"),
                result.dropped().get(1).reason());
        assertEquals(0, raw.zcard(keys.leases()));
        String error = taskReads.get(task, running.id()).orElseThrow().error();
        assertTrue(error.startsWith("lease expired: worker w did not renew it during run 2"), error);
    }

    @Test
    void progressFromARunThatLostItsLeaseIsRefusedAndWritesNothing() throws Exception {
        runStore.progress(task, running.id(), 8, 10, "mine", NOW, running.token());
        runStore.recover(task, NOW + 60_000, 10).get();
        FetchedTask other = runStore.fetch(task, 1, NOW, NOW + 1000, "other", KEEP).get().getFirst();
        assertEquals(running.id(), other.id());
        runStore.progress(task, other.id(), 9, 10, "other's", NOW, other.token());
        LeaseLostException refused = assertThrows(LeaseLostException.class,
                () -> runStore.progress(task, running.id(), 2, 10, "stale", NOW, running.token()));
        assertTrue(refused.getMessage().contains("no longer holds the task"), refused.getMessage());
        assertEquals(9, taskReads.get(task, running.id()).orElseThrow().current());
        // from outside a run (no token), progress still works for a RUNNING task
        runStore.progress(task, running.id(), 10, 10, "by hand", NOW);
        assertEquals("by hand", taskReads.get(task, running.id()).orElseThrow().message());
    }

    @Test
    void anIdenticalDefinitionIsNotWrittenAgainAndADifferentOneIsReplacedWhole() {
        // A TTL survives only if the key is not rewritten (the script deletes and writes it anew).
        raw.pexpire(keys.definition(), 600_000);
        addStore.publish(RunStoreTest.definition(task, 10, 2));
        assertTrue(raw.pttl(keys.definition()) > 0, "an identical definition was written again");
        raw.hset(keys.definition(), "marker", "not published by the runtime");
        addStore.publish(RunStoreTest.definition(task, 10, 2));
        assertEquals(-1, raw.pttl(keys.definition()), "a differing definition is written");
        assertEquals(null, raw.hget(keys.definition(), "marker"), "a differing definition is replaced as a whole");
        assertTrue(raw.sismember(Keys.TASK_REGISTRY, task));
    }

    @Test
    void againstAFullRedisAnIdenticalDefinitionPublishesAndAChangedOneIsRefusedWhole() {
        try (LocalRedis full = LocalRedis.startServer(
                List.of("--maxmemory-policy", "noeviction"));
             RedisConnector connector = RedisConnector.connect(full.uri())) {
            AddStore fullStore = new AddStore(connector);
            fullStore.publish(RunStoreTest.definition(task, 10, 2));
            var fullRaw = connector.sync();
            Map<String, String> published = fullRaw.hgetall(keys.definition());
            fullRaw.configSet("maxmemory", "1");   // far below what Redis uses: every write that needs memory is refused

            fullStore.publish(RunStoreTest.definition(task, 10, 2));   // a worker restarting with the same app
            TaskpoolException refused = assertThrows(TaskpoolException.class,
                    () -> fullStore.publish(RunStoreTest.definition(task, 20, 2)));
            assertTrue(refused.getMessage().contains("publish task " + task) && refused.getMessage().contains("maxmemory"),
                    refused.getMessage());
            assertEquals(published, fullRaw.hgetall(keys.definition()), "the old definition stays whole");
            fullRaw.configSet("maxmemory", "0");
        }
    }
}
