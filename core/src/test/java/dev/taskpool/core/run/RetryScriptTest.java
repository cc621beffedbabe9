package dev.taskpool.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.TestRedis;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * retry-7 against a real Redis: a failed run gives its task back to wait in {@code delayed} (or,
 * with no wait, at the back of the queue), its lease ends, a run that does not count gives its
 * attempt back, and a cancel takes a task out of {@code delayed}. Time is passed in: nothing sleeps.
 */
class RetryScriptTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("retry");

    private RedisConnector redis;
    private AddStore addStore;
    private RunStore runStore;
    private TaskReads taskReads;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void connect() {
        redis = fixture.redis();
        addStore = new AddStore(redis);
        runStore = new RunStore(redis);
        taskReads = new TaskReads(redis);
        raw = fixture.raw();
        task = fixture.task();
        keys = Keys.of(task);
        addStore.publish(RunStoreTest.definition(task, 10, 2));
    }

    private FetchedTask fetchOne() throws Exception {
        List<FetchedTask> runs = runStore.fetch(task, 1, NOW, NOW + 10_000, "w", KEEP).get();
        assertEquals(1, runs.size(), "one task fetched");
        return runs.getFirst();
    }

    @Test
    void aRetryWithAWaitEndsTheLeaseAndWaitsInTheDelayedSet() throws Exception {
        addStore.add(task, null, "[\"x\"]", NOW);
        FetchedTask run = fetchOne();
        assertEquals(TransitionResult.DONE, runStore.retry(run, "boom", NOW + 10, Duration.ofSeconds(5), true).get());
        Map<String, String> hash = raw.hgetall(keys.task(run.id()));
        assertEquals("WAITING", hash.get("status"));
        assertEquals("boom", hash.get("error"));
        assertEquals(Long.toString(NOW + 5010), hash.get("due_at"));
        assertEquals("1", hash.get("attempt"), "the failed run's number: the next fetch makes it 2");
        assertEquals(run.token(), hash.get("retried_lease"));
        assertNull(hash.get("worker"), "a waiting task has no worker");
        assertNull(hash.get("started_at"));
        assertNull(hash.get("free_runs"));
        assertEquals(NOW + 5010, raw.zscore(keys.delayed(), Long.toString(run.id())).longValue());
        assertEquals(0, raw.zcard(keys.leases()), "the lease ended");
        assertEquals(0, raw.llen(keys.waiting()), "not in the queue while it waits");
        assertEquals(1, raw.llen(keys.wake()), "the earliest due time: an idle worker is woken to learn it");
        assertEquals(1L, taskReads.stats(task).get("retried"));
        assertEquals(TransitionResult.LEASE_LOST, runStore.complete(run, TaskStatus.SUCCESS, "1", NOW, KEEP).get(),
                "the retried run holds nothing any more");
        assertEquals(List.of(), runStore.fetch(task, 5, NOW + 20, NOW + 10_000, "w", KEEP).get(), "nothing is ready");
    }

    @Test
    void aRetryWithoutWaitJoinsTheBackOfTheQueue() throws Exception {
        for (int i = 0; i < 3; i++) {
            addStore.add(task, null, "[]", NOW);
        }
        FetchedTask first = fetchOne();
        raw.del(keys.wake());   // (the fetch passed the token on: more was waiting)
        assertEquals(TransitionResult.DONE, runStore.retry(first, "boom", NOW, Duration.ZERO, true).get());
        assertEquals(Long.toString(NOW), raw.hget(keys.task(first.id()), "due_at"), "due at once");
        assertEquals(0, raw.zcard(keys.delayed()));
        assertEquals(0, raw.llen(keys.wake()), "the queue was not empty: no token");
        List<Long> order = runStore.fetch(task, 5, NOW, NOW + 10_000, "w", KEEP).get().stream().map(FetchedTask::id).toList();
        assertEquals(List.of(2L, 3L, 1L), order, "the tasks already waiting go first");
    }

    @Test
    void aRetryIntoAnEmptyQueueWakesAWorker() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = fetchOne();
        raw.del(keys.wake());
        runStore.retry(run, "boom", NOW, Duration.ZERO, true).get();
        assertEquals(1, raw.llen(keys.wake()));
        assertEquals(2, fetchOne().attempt());
    }

    @Test
    void aRunThatDoesNotCountGivesItsAttemptBackAndIsCountedApart() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask first = fetchOne();
        runStore.retry(first, "rate limited", NOW, Duration.ZERO, false).get();
        assertEquals("0", raw.hget(keys.task(first.id()), "attempt"));
        assertEquals("1", raw.hget(keys.task(first.id()), "free_runs"));
        FetchedTask second = fetchOne();
        assertEquals(1, second.attempt(), "the next run has the same number");
        runStore.retry(second, "rate limited", NOW, Duration.ZERO, false).get();
        FetchedTask third = fetchOne();
        assertEquals(1, third.attempt());
        assertEquals("2", raw.hget(keys.task(first.id()), "free_runs"), "runs made = attempt + free_runs = 3");
        runStore.retry(third, "really failed", NOW, Duration.ZERO, true).get();
        assertEquals(2, fetchOne().attempt(), "a counted run moves the number on");
        assertEquals(3L, taskReads.stats(task).get("retried"));
    }

    @Test
    void theRetryEventTellsTheFailedRunAndTheDueTime() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = fetchOne();
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        try (RedisConnector listenerConnection = RedisConnector.connect(TestRedis.uri());
             StatefulRedisPubSubConnection<String, String> listener = listenerConnection.newPubSubConnection()) {
            listener.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    heard.add(message);
                }
            });
            listener.sync().subscribe(keys.events(run.id()));
            runStore.retry(run, "boom \"quoted\"", NOW + 1, Duration.ofMillis(2500), true).get();
            String message = heard.poll(30, TimeUnit.SECONDS);
            JsonNode event = Json.read(message, "event");
            assertEquals("retry", event.path("event").asText());
            assertEquals("WAITING", event.path("status").asText());
            assertEquals(1, event.path("attempt").asInt(), "the failed run");
            assertEquals("boom \"quoted\"", event.path("error").asText());
            assertEquals(NOW + 2501, event.path("due_at").asLong());
            assertEquals(NOW + 1, event.path("at").asLong());
        }
    }

    @Test
    void aRetryForARunThatLostItsLeaseWritesNothing() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = fetchOne();
        new TaskOperations(redis).cancel(task, run.id(), "ops");
        assertEquals(TransitionResult.LEASE_LOST, runStore.retry(run, "boom", NOW, Duration.ofSeconds(1), true).get());
        assertEquals(TaskStatus.FAILURE, taskReads.get(task, run.id()).orElseThrow().status());
        assertEquals(0, raw.zcard(keys.delayed()));
        FetchedTask stranger = new FetchedTask(task, 99, 1, "[]", "w/1");
        assertEquals(TransitionResult.TASK_MISSING, runStore.retry(stranger, "boom", NOW, Duration.ZERO, true).get());
    }

    @Test
    void badArgumentsAreRefusedAndWriteNothing() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = fetchOne();
        String[] scriptKeys = {keys.task(run.id()), keys.leases(), keys.delayed(), keys.waiting(), keys.wake(), keys.stats()};
        ScriptRunner scripts = new ScriptRunner(redis.async());
        for (String[] bad : List.of(new String[] {"-5", "counted"}, new String[] {"1.5", "counted"},
                new String[] {"10000000000000000", "counted"}, new String[] {"10", "maybe"})) {
            ExecutionException error = assertThrows(ExecutionException.class, () -> scripts.run(LuaScript.RETRY, scriptKeys,
                    Long.toString(run.id()), run.token(), "boom", Long.toString(NOW), bad[0], bad[1], task,
                    keys.events(run.id())).get());
            assertTrue(error.getCause().getMessage().contains("BADVALUE") && error.getCause().getMessage().contains("nothing was changed"),
                    error.getCause().getMessage());
        }
        assertEquals("RUNNING", raw.hget(keys.task(run.id()), "status"));
        assertEquals(1, raw.zcard(keys.leases()));
    }

    @Test
    void aCancelTakesAWaitingRetryOutOfTheDelayedSet() throws Exception {
        addStore.add(task, null, "[]", NOW);
        FetchedTask run = fetchOne();
        runStore.retry(run, "boom", NOW, Duration.ofMinutes(5), true).get();
        new TaskOperations(redis).cancel(task, run.id(), "ann");
        assertEquals(TaskStatus.FAILURE, taskReads.get(task, run.id()).orElseThrow().status());
        assertEquals("canceled by ann", taskReads.get(task, run.id()).orElseThrow().error());
        assertEquals(0, raw.zcard(keys.delayed()), "it left the delayed set");
        assertEquals(List.of(), runStore.fetch(task, 5, NOW + 600_000, NOW + 700_000, "w", KEEP).get(),
                "it never runs again, not even once it would have been due");
    }
}
