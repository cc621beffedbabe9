package dev.taskpool.core.add;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptReply;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.redis.AddIncompleteException;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.LocalRedis;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The add path against a real Redis: large batches, wrong-typed keys, a full Redis, re-sent requests. */
class EnqueueTest {
    private static final long NOW = 1_700_000_000_000L;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("enqueue");

    private RedisConnector redis;
    private AddStore addStore;
    private TaskReads taskReads;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void connect() {
        redis = fixture.redis();
        addStore = new AddStore(redis);
        taskReads = new TaskReads(redis);
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        addStore.publish(definition(task, 100_000));
    }


    @Test
    void aReSentAddIsAppliedOnce() throws Exception {
        // What Lettuce does after a reconnect: the same command, request id included, again.
        Keys keys = Keys.of(task);
        String[] scriptKeys = EnqueueCall.keys(keys);
        String[] args = new EnqueueCall(task, keys, "60000", 1, "heard").request("same-request", NOW, 0, 1,
                List.of(new NewTask(null, "[1]"))).args();
        ScriptRunner scripts = new ScriptRunner(redis.async());
        List<Object> first = scripts.run(LuaScript.ENQUEUE, scriptKeys, args).get();
        List<Object> again = scripts.run(LuaScript.ENQUEUE, scriptKeys, args).get();
        assertEquals(first, again);
        assertEquals(1, raw.llen(keys.waiting()));
        assertEquals("1", raw.get(keys.sequence()));
        assertEquals(1, taskReads.stats(task).get("added"));
        long ttl = raw.pttl(keys.request("same-request"));
        assertTrue(ttl > 0 && ttl <= 60_000, "the request id is remembered briefly: " + ttl);
    }

    private static TaskDefinition definition(String id, int size) {
        return new TaskDefinition(id, "tasks/" + id + ".yao", "test", 2, 1, Duration.ZERO, Duration.ofSeconds(5),
                size, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60));
    }

    private static List<NewTask> batch(int count) {
        List<NewTask> tasks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            tasks.add(new NewTask(null, "[" + i + "]"));
        }
        return tasks;
    }

    /** Every key of the task with its serialized value, to prove that a refused add changed nothing. */
    private Map<String, String> snapshot() {
        Map<String, String> values = new TreeMap<>();
        for (String key : raw.keys("taskpool:{" + task + "}:*")) {
            values.put(key, raw.type(key) + " " + HexFormat.of().formatHex(raw.dump(key)));
        }
        return values;
    }

    @Test
    void fiftyThousandTasksInOneAddAllGoInChunksAndAreAllAddedOnce() {
        addStore.publish(definition(task, 50_000));
        long callsBefore = addStore.scriptCalls();
        List<Long> ids = addStore.addAll(task, batch(50_000), NOW);
        assertEquals(LongStream.rangeClosed(1, 50_000).boxed().toList(), ids);
        assertTrue(addStore.scriptCalls() - callsBefore >= 50, "one script call per chunk of " + AddRequest.CHUNK);
        assertEquals(50_000, raw.llen(keys.waiting()));
        assertEquals("1", raw.lindex(keys.waiting(), -1), "the first task of the batch runs first");
        assertEquals("50000", raw.lindex(keys.waiting(), 0));
        assertEquals("[49999]", raw.hget(keys.task(50_000), "args"));
        assertEquals(50_000, taskReads.stats(task).get("added"));
        assertEquals("50000", raw.get(keys.sequence()));
        assertEquals(1, raw.llen(keys.wake()), "the queue was empty: one wake-up token");
        assertEquals(List.of(), addStore.addAll(task, batch(1), NOW), "size 50,000 is reached");
    }

    /**
     * Not a check: prints how long Redis is blocked by one script call of 50,000 tasks against
     * chunks of {@link AddRequest#CHUNK}, from Redis' own command statistics.
     */
    @Test
    void howLongOneCallOfFiftyThousandBlocksRedisAgainstChunks() throws Exception {
        addStore.addAll(task, batch(1), NOW);
        String whole = fixture.newTask("whole");
        addStore.publish(definition(whole, 100_000));
        Keys wholeKeys = Keys.of(whole);
        String[] args = new EnqueueCall(whole, wholeKeys, "60000", 50_000, "heard").request("one-call", NOW, 0, 50_000, batch(50_000)).args();
        long[] before = scriptStats();
        List<Object> reply = new ScriptRunner(redis.async()).run(LuaScript.ENQUEUE, EnqueueCall.keys(wholeKeys), args).get();
        long[] single = scriptStats();
        assertEquals(50_000, ((List<?>) reply.getFirst()).size());
        addStore.addAll(task, batch(50_000), NOW);
        long[] chunked = scriptStats();
        System.out.printf("Redis blocked by one script call of 50,000 tasks: %d ms; by %d chunks of %d: %d ms in all,"
                        + " %.1f ms per call%n", (single[1] - before[1]) / 1000, chunked[0] - single[0], AddRequest.CHUNK,
                (chunked[1] - single[1]) / 1000, (chunked[1] - single[1]) / 1000.0 / (chunked[0] - single[0]));
    }

    /** Calls and microseconds of EVALSHA plus EVAL so far, from INFO commandstats. */
    private long[] scriptStats() {
        long[] totals = new long[2];
        raw.info("commandstats").lines().filter(line -> line.startsWith("cmdstat_eval")).forEach(line -> {
            for (String field : line.substring(line.indexOf(':') + 1).split(",")) {
                String[] pair = field.split("=");
                if (pair[0].equals("calls")) {
                    totals[0] += Long.parseLong(pair[1]);
                } else if (pair[0].equals("usec")) {
                    totals[1] += Long.parseLong(pair[1]);
                }
            }
        });
        return totals;
    }

    @Test
    void aBatchOfSeveralChunksIsAdmittedAgainstSizeAsAWhole() {
        addStore.publish(definition(task, 2_500));
        assertEquals(List.of(), addStore.addAll(task, batch(2_501), NOW), "2,501 would pass size 2,500");
        assertEquals(0, raw.exists(keys.task(1), keys.sequence(), keys.waiting(), keys.stats()), "nothing was written");
        assertEquals(2_500, addStore.addAll(task, batch(2_500), NOW).size());
        assertEquals(2_500, raw.llen(keys.waiting()));
        assertEquals(2_500, taskReads.stats(task).get("added"));
    }

    @Test
    void aChunkRefusedAfterOthersWereAddedSaysWhatWasAddedAndARetryAddsTheRest() {
        raw.hset(keys.task(2_400), "squatter", "1");
        List<NewTask> tasks = new ArrayList<>();
        for (long id = 1; id <= 2_500; id++) {
            tasks.add(new NewTask(id, "[" + id + "]"));
        }
        AddIncompleteException incomplete = assertThrows(AddIncompleteException.class, () -> addStore.addAll(task, tasks, NOW));
        assertEquals(LongStream.rangeClosed(1, 2_000).boxed().toList(), incomplete.added());
        assertTrue(incomplete.getMessage().contains("only the first 2000 of 2500 tasks to " + task + " were added (first id 1,"
                + " last 2000), the rest were not: task " + task + ": id 2400 already exists"), incomplete.getMessage());
        assertEquals(2_000, raw.llen(keys.waiting()));
        raw.del(keys.task(2_400));
        List<Long> all = addStore.retryAdd(incomplete.request(), NOW);
        assertEquals(LongStream.rangeClosed(1, 2_500).boxed().toList(), all);
        assertEquals(2_500, raw.llen(keys.waiting()), "the first chunks were not added again");
        assertEquals(2_500, taskReads.stats(task).get("added"));
    }

    @Test
    void aRequestSentAgainReturnsItsFirstIdsAndAddsNothing() {
        AddRequest request = new AddRequest(task, "again-" + task, batch(2_500), NOW + 60_000);
        List<Long> first = addStore.retryAdd(request, NOW);
        assertEquals(2_500, first.size());
        assertEquals(first, addStore.retryAdd(request, NOW + 1));
        assertEquals(2_500, raw.llen(keys.waiting()), "the second send added nothing");
        assertEquals(2_500, taskReads.stats(task).get("added"));
        assertEquals("2500", raw.get(keys.sequence()));
        for (int chunk = 0; chunk < 3; chunk++) {
            long ttl = raw.pttl(keys.request(request.requestId() + "." + chunk));
            assertTrue(ttl > addStore.addDeadline().toMillis() && ttl <= addStore.addRequestMemory().toMillis(),
                    "chunk " + chunk + " is remembered for " + addStore.addRequestMemory() + ": ttl " + ttl);
        }
    }

    @Test
    void aRequestPastItsRetryDeadlineIsNotSentAgain() {
        AddRequest request = new AddRequest(task, "late-" + task, batch(1), NOW);
        TaskpoolException late = assertThrows(TaskpoolException.class, () -> addStore.retryAdd(request, NOW + 1));
        assertTrue(late.getMessage().contains("too late to send add request late-" + task), late.getMessage());
        assertEquals(0, raw.exists(keys.task(1), keys.request(request.requestId())), "nothing was sent");
    }

    @Test
    void aWrongTypedKeyRefusesTheAddNamingTheKeyAndWritesNothing() {
        addStore.add(task, null, "[0]", NOW);
        assertRefused(() -> raw.set(keys.stats(), "not a hash"), keys.stats() + " holds a string, expected a hash");
        assertRefused(() -> raw.hset(keys.stats(), "added", "lots"), keys.stats() + " holds added 'lots', expected an integer");
        assertRefused(() -> raw.set(keys.definition(), "x"), keys.definition() + " holds a string, expected a hash");
        assertRefused(() -> raw.hset(keys.definition(), "size", "big"), keys.definition() + " holds size 'big', expected an integer");
        assertRefused(() -> {
            raw.del(keys.sequence());
            raw.sadd(keys.sequence(), "1");
        }, keys.sequence() + " holds a set, expected a string");
        assertRefused(() -> raw.set(keys.sequence(), "seven"), keys.sequence() + " holds 'seven', expected an integer");
        assertRefused(() -> raw.set(keys.waiting(), "1"), keys.waiting() + " holds a string, expected a list");
        assertRefused(() -> {
            raw.del(keys.wake());
            raw.hset(keys.wake(), "a", "1");
            raw.del(keys.waiting());   // the wake list is read (and written) only when the queue is empty
        }, keys.wake() + " holds a hash, expected a list");
        // the counter was reset while tasks remain: the next default id is taken
        assertRefused(() -> raw.set(keys.sequence(), "0"), "the id counter " + keys.sequence()
                + " is behind the tasks: the next id, 1, is taken by " + keys.task(1));
        assertRefused(() -> {
            raw.set(keys.sequence(), "1");
            raw.set(keys.task(2), "garbage");
        }, "the next id, 2, is taken by " + keys.task(2));
    }

    /** With tasks waiting an add neither reads nor writes the wake list, so a broken one is left alone. */
    @Test
    void anAddToAQueueThatIsNotEmptyLeavesTheWakeListAlone() {
        addStore.add(task, null, "[0]", NOW);
        raw.del(keys.wake());
        raw.hset(keys.wake(), "a", "1");
        addStore.add(task, null, "[1]", NOW);
        assertEquals(2L, raw.llen(keys.waiting()), "both tasks wait");
        assertEquals(Map.of("a", "1"), raw.hgetall(keys.wake()), "the wake key was not touched");
    }

    /**
     * A delayed add may wake a worker whatever the queue holds, so it checks the wake list first: a
     * broken one refuses it having written nothing (it once failed after writing the task's hash,
     * leaving a task in neither the queue nor the delayed set).
     */
    @Test
    void aDelayedAddToAQueueThatIsNotEmptyChecksTheWakeListBeforeWriting() {
        addStore.add(task, null, "[0]", NOW);
        raw.del(keys.wake());
        raw.hset(keys.wake(), "a", "1");
        TaskpoolException refused = assertThrows(TaskpoolException.class,
                () -> addStore.addWith(task, null, "[1]", AddOptions.delay(Duration.ofMinutes(1)), NOW));
        assertTrue(refused.getMessage().contains(keys.wake() + " holds a hash, expected a list"), refused.getMessage());
        assertEquals(0, raw.exists(keys.task(2), keys.delayed()), "no task hash, no delayed entry");
        assertEquals("1", raw.get(keys.sequence()), "no id taken");
    }

    /**
     * A counter at (or, set by hand, past) the last id, 2^53-1, refuses the add by name. Past 2^53 Lua's
     * numbers stop counting (n + 1 == n), so the id loop never ended: the script held Redis BUSY for
     * good, and the client sent it twice more. It runs on a Redis of its own, so a regression cannot
     * block the other tests' server.
     */
    @Test
    void aCounterAtTheLastIdRefusesTheAddInsteadOfLoopingForEver() {
        try (LocalRedis own = LocalRedis.start(); RedisConnector ownRedis = RedisConnector.connect(own.uri(), Duration.ofSeconds(2))) {
            AddStore ownStore = new AddStore(ownRedis);
            RedisClusterCommands<String, String> ownRaw = ownRedis.sync();
            ownStore.publish(definition(task, 100));
            for (String counter : List.of("9007199254740991", "9007199254740992", "99999999999999999999")) {
                ownRaw.set(keys.sequence(), counter);
                TaskpoolException refused;
                try {
                    refused = assertThrows(TaskpoolException.class, () -> ownStore.add(task, null, "[1]", NOW));
                } finally {
                    killScriptIfBusy(own);
                }
                assertTrue(refused.getMessage().contains("the id counter " + keys.sequence() + " is at " + counter)
                        && refused.getMessage().contains("nothing was written"), refused.getMessage());
                assertEquals(counter, ownRaw.get(keys.sequence()), "the counter did not move");
                assertEquals(0, ownRaw.llen(keys.waiting()), "nothing was queued");
            }
            // One below the end: the last id is given, and the next add is refused.
            ownRaw.set(keys.sequence(), "9007199254740990");
            assertEquals(9007199254740991L, ownStore.add(task, null, "[1]", NOW).id());
            TaskpoolException full = assertThrows(TaskpoolException.class, () -> ownStore.add(task, null, "[2]", NOW));
            assertTrue(full.getMessage().contains("is at 9007199254740991"), full.getMessage());
            // A batch that would cross the end is refused whole.
            ownRaw.set(keys.sequence(), "9007199254740989");
            TaskpoolException crossing = assertThrows(TaskpoolException.class, () -> ownStore.addAll(task, batch(3), NOW));
            assertTrue(crossing.getMessage().contains("is at 9007199254740989"), crossing.getMessage());
            assertEquals(1, ownRaw.llen(keys.waiting()), "only the one task added before");
        }
    }

    /** A looping script would hold Redis BUSY after the test: stop it, so that the failure is this test's alone. */
    private static void killScriptIfBusy(LocalRedis redis) {
        try (RedisConnector admin = RedisConnector.connect(redis.uri(), Duration.ofSeconds(2))) {
            for (int i = 0; i < 5; i++) {
                try {
                    admin.sync().scriptKill();
                } catch (RuntimeException notBusy) {
                    return;
                }
            }
        }
    }

    /** Breaks one key, checks that an add is refused with {@code message} and changes nothing, then repairs it. */
    private void assertRefused(Runnable breakKey, String message) {
        Map<String, String> healthy = snapshot();
        breakKey.run();
        Map<String, String> broken = snapshot();
        TaskpoolException refused = assertThrows(TaskpoolException.class, () -> addStore.add(task, null, "[1]", NOW));
        assertTrue(refused.getMessage().contains(message), refused.getMessage());
        assertTrue(refused.getMessage().contains("nothing was written"), refused.getMessage());
        assertEquals(broken, snapshot(), "the refused add changed nothing");
        for (String key : broken.keySet()) {
            if (!healthy.containsKey(key)) {
                raw.del(key);
            }
        }
        healthy.forEach((key, value) -> {
            if (!value.equals(broken.get(key))) {
                raw.del(key);
                raw.restore(key, 0, HexFormat.of().parseHex(value.substring(value.indexOf(' ') + 1)));
            }
        });
        assertEquals(healthy, snapshot(), "repaired");
    }

    /** One call of the enqueue script with these requests (request id, admit, tasks), each added at NOW. */
    private List<Object> call(Object... requests) throws Exception {
        EnqueueCall call = new EnqueueCall(task, keys, "60000", 10, "heard");
        for (int i = 0; i < requests.length; i += 3) {
            @SuppressWarnings("unchecked")
            List<NewTask> tasks = (List<NewTask>) requests[i + 2];
            call.request((String) requests[i], NOW, 0, (Integer) requests[i + 1], tasks);
        }
        return new ScriptRunner(redis.async()).run(LuaScript.ENQUEUE, EnqueueCall.keys(keys), call.args()).get();
    }

    private static List<NewTask> withId(long id) {
        return List.of(new NewTask(id, "[" + id + "]"));
    }

    @Test
    void manyRequestsInOneCallAreEachAdmittedOrRefusedOnTheirOwn() throws Exception {
        addStore.publish(definition(task, 3));
        addStore.add(task, null, "[0]", NOW);   // id 1; two more fit
        raw.hset(keys.task(50), "squatter", "1");
        List<Object> replies = call("a", 1, batch(1), "b", 1, withId(50), "c", 1, batch(1), "d", 1, batch(1), "e", 0,
                withId(7));
        assertEquals(List.of(List.of("2"), List.of(-2L, "50"), List.of("3"), List.of(0L), List.of("7")), replies,
                "a and c fit, b's id is taken, d would pass size 3, e asks for no size check");
        assertEquals(List.of("7", "3", "2", "1"), raw.lrange(keys.waiting(), 0, -1), "the added ones, in the order given");
        assertEquals(4, taskReads.stats(task).get("added"), "only the added ones count");
        assertEquals("7", raw.get(keys.sequence()), "moved past the explicit id");
        assertEquals(0, raw.exists(keys.request("b"), keys.request("d")), "a refused request leaves no record");
        assertEquals(Map.of("squatter", "1"), raw.hgetall(keys.task(50)), "the existing task was not touched");
        assertEquals(List.of("[\"2\"]", "[\"3\"]", "[\"7\"]"), List.of(raw.get(keys.request("a")),
                raw.get(keys.request("c")), raw.get(keys.request("e"))));
    }

    @Test
    void aCallOfRefusedRequestsWritesNothing() throws Exception {
        addStore.publish(definition(task, 1));
        addStore.add(task, null, "[0]", NOW);
        raw.hset(keys.task(9), "squatter", "1");
        Map<String, String> before = snapshot();
        List<Object> replies = call("full", 1, batch(1), "taken", 0, withId(9), "twice", 0,
                List.of(new NewTask(5L, "[]"), new NewTask(5L, "[]")));
        assertEquals(List.of(List.of(0L), List.of(-2L, "9"), List.of(-2L, "5")), replies);
        assertEquals(before, snapshot(), "nothing was written, not even a record");
    }

    @Test
    void anIdTakenByAnEarlierRequestOfTheSameCallRefusesOnlyTheLaterOne() throws Exception {
        List<Object> replies = call("first", 0, batch(2), "second", 0, withId(2), "third", 0, batch(1));
        assertEquals(List.of(List.of("1", "2"), List.of(-2L, "2"), List.of("3")), replies);
        assertEquals(3, raw.llen(keys.waiting()));
        assertEquals("[1]", raw.hget(keys.task(2), "args"), "task 2 holds the first request's second task");
    }

    @Test
    void aRequestRepeatedInALaterCallGetsItsFirstIdsBesideNewOnes() throws Exception {
        assertEquals(List.of(List.of("1")), call("once", 1, batch(1)));
        List<Object> replies = call("new-1", 1, batch(1), "once", 1, batch(1), "new-2", 1, batch(1));
        assertEquals(List.of(List.of("2"), List.of("1"), List.of("3")), replies);
        assertEquals(3, raw.llen(keys.waiting()), "the repeated request added nothing more");
        assertEquals(3, taskReads.stats(task).get("added"));
        raw.lpush(keys.request("broken"), "x");
        replies = call("broken", 1, batch(1), "new-3", 1, batch(1));
        assertEquals(List.of(List.of(ScriptReply.WRONG_TYPE.code(), keys.request("broken"), "a list", "a string"), List.of("4")), replies,
                "a wrong-typed record refuses its own request only");
    }

    @Test
    void aFullRedisRefusesTheNewRequestsOfACallAndStillAnswersTheRepeatedOnes() throws Exception {
        try (LocalRedis small = LocalRedis.startServer(List.of("--maxmemory-policy", "noeviction"));
             RedisConnector connector = RedisConnector.connect(small.uri(), Duration.ofSeconds(2))) {
            new AddStore(connector).publish(definition(task, 10));
            ScriptRunner scripts = new ScriptRunner(connector.async());
            String[] first = new EnqueueCall(task, keys, "60000", 1, "heard").request("early", NOW, 0, 1, batch(1)).args();
            assertEquals(List.of(List.of("1")), scripts.run(LuaScript.ENQUEUE, EnqueueCall.keys(keys), first).get());
            fill(connector.sync());
            String[] both = new EnqueueCall(task, keys, "60000", 2, "heard").request("late", NOW, 0, 1, batch(1))
                    .request("early", NOW, 0, 1, batch(1)).args();
            List<Object> replies = scripts.run(LuaScript.ENQUEUE, EnqueueCall.keys(keys), both).get();
            assertEquals(List.of(ScriptReply.REDIS_REFUSED.code()), ((List<?>) replies.getFirst()).subList(0, 1), "the new request is refused: " + replies);
            assertTrue(((String) ((List<?>) replies.getFirst()).get(1)).startsWith("OOM"), replies.toString());
            assertEquals(List.of("1"), replies.get(1), "the repeated request gets its record");
            assertEquals(1, connector.sync().llen(keys.waiting()));
            assertEquals(0, connector.sync().exists(keys.request("late")));
        }
    }

    @Test
    void aMalformedRequestListIsAnErrorNamingWhere() {
        String[] args = {task, keys.eventsPrefix(), "60000", "heard", keys.kindEvents(), "rid", Long.toString(NOW), "1", "2", "",
                "[]"};
        Exception error = assertThrows(Exception.class, () -> new ScriptRunner(redis.async()).run(LuaScript.ENQUEUE, EnqueueCall.keys(keys), args).get());
        assertTrue(String.valueOf(error.getMessage()).contains("malformed request at ARGV[6]"), error.getMessage());
        assertEquals(0, raw.exists(keys.task(1), keys.waiting(), keys.stats()), "nothing was written");
    }

    @Test
    void aWrongTypedRequestRecordIsNamedToo() {
        AddRequest request = new AddRequest(task, "broken-" + task, batch(1), NOW + 60_000);
        raw.lpush(keys.request(request.requestId()), "x");
        TaskpoolException refused = assertThrows(TaskpoolException.class, () -> addStore.retryAdd(request, NOW));
        assertTrue(refused.getMessage().contains(keys.request(request.requestId()) + " holds a list, expected a string"),
                refused.getMessage());
        assertFalse(raw.exists(keys.task(1)) > 0);
    }

    @Test
    void aFullRedisRefusesTheAddAtOnceAndWritesNothing() {
        try (LocalRedis small = LocalRedis.startServer(List.of("--maxmemory-policy", "noeviction"));
             RedisConnector connector = RedisConnector.connect(small.uri(), Duration.ofSeconds(2))) {
            AddStore full = new AddStore(connector);
            full.publish(definition(task, 10));
            AddRequest before = new AddRequest(task, "before-" + task, List.of(new NewTask(null, "[1]")), NOW + 60_000);
            assertEquals(List.of(1L), full.retryAdd(before, NOW));
            RedisClusterCommands<String, String> sync = connector.sync();
            fill(sync);
            Map<String, String> keysBefore = new TreeMap<>();
            for (String key : sync.keys("taskpool:{" + task + "}:*")) {
                keysBefore.put(key, sync.type(key));
            }
            long callsBefore = full.scriptCalls();
            TaskpoolException refused = assertThrows(TaskpoolException.class, () -> full.add(task, null, "[2]", NOW));
            assertTrue(refused.getMessage().contains("Redis at " + connector.describe() + " is full (used memory reached"
                    + " maxmemory"), refused.getMessage());
            assertTrue(refused.getMessage().contains("the add of a task to " + task + " was refused and nothing was written"),
                    refused.getMessage());
            assertFalse(refused instanceof AddOutcomeUnknownException, "a refusal is a definite answer");
            assertEquals(1, full.scriptCalls() - callsBefore, "refused at once, not sent again until the deadline");
            assertEquals("1", sync.get(keys.sequence()), "the counter did not move");
            assertEquals(1, sync.llen(keys.waiting()));
            assertEquals(0, sync.exists(keys.task(2)));
            Map<String, String> after = new TreeMap<>();
            for (String key : sync.keys("taskpool:{" + task + "}:*")) {
                after.put(key, sync.type(key));
            }
            assertEquals(keysBefore, after, "no key was added (not even a request record)");
            assertEquals(List.of(1L), full.retryAdd(before, NOW), "a request applied before Redis filled up still answers");
        }
    }

    /**
     * Writes 5 MB, then sets maxmemory far below it: Redis stays over its limit (a limit reached
     * by filling up to it would let small commands through as buffers shrink).
     */
    private static void fill(RedisClusterCommands<String, String> sync) {
        String value = "x".repeat(100_000);
        for (int i = 0; i < 50; i++) {
            sync.set("filler:" + i, value);
        }
        sync.configSet("maxmemory", "1mb");
        RedisCommandExecutionException full = assertThrows(RedisCommandExecutionException.class, () -> sync.set("probe", "1"));
        assertTrue(full.getMessage().startsWith("OOM"), full.getMessage());
    }
}
