package dev.taskpool.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What operators read of issue 19's flow control, against a real Redis whose keys are written by
 * hand as the scripts leave them (the {@code flow} hash, the {@code rate} window, the queues of
 * priority 1 to 3, a task's {@code key} and {@code priority}, the {@code duplicates} counter):
 * what holds a kind back and until when, by the clock the counts are read by, the ready count over
 * every queue, and the WAITING listing across them.
 */
class FlowOperationsTest {
    private static final long NOW = 1_700_000_000_000L;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("ops-flow");

    private AddStore adds;
    private TaskOperations operations;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void publish() {
        adds = new AddStore(fixture.redis());
        operations = new TaskOperations(fixture.redis(), Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        adds.publish(RunStoreTest.definition(task, 100, 1));
    }

    /** A ready task of priority 0, added by the add script. */
    private long plain(long at) {
        return adds.add(task, null, "[\"plain\"]", at).id();
    }

    /** A ready task of {@code priority}, with {@code key} when not null, as the add script leaves it. */
    private long ready(int priority, String key, long at) {
        long id = raw.incr(keys.sequence());
        Map<String, String> hash = new LinkedHashMap<>(Map.of("status", "WAITING", "args", "[\"p" + priority + "\"]",
                "attempt", "0", "current", "0", "total", "0", "message", "", "created_at", Long.toString(at)));
        if (priority > 0) {
            hash.put("priority", Integer.toString(priority));
        }
        if (key != null) {
            hash.put("key", key);
            raw.set(keys.unique(key), Long.toString(id));
        }
        raw.hset(keys.task(id), hash);
        raw.lpush(keys.waiting(priority), Long.toString(id));
        return id;
    }

    private void lease(long id) {
        raw.zadd(keys.leases(), NOW + 60_000, Long.toString(id));
    }

    private static List<Long> ids(TaskPage page) {
        return page.tasks().stream().map(TaskInfo::id).toList();
    }

    @Test
    void keysAreNamedAsTheDesignSays() {
        String base = "taskpool:{" + task + "}:";
        assertEquals(base + "flow", keys.flow());
        assertEquals(base + "rate", keys.rate());
        assertEquals(base + "unique:", keys.uniquePrefix());
        assertEquals(base + "unique:invoice-42", keys.unique("invoice-42"));
        assertEquals(keys.waiting(), keys.waiting(0));
        assertEquals(base + "waiting:3", keys.waiting(3));
        assertThrows(IllegalArgumentException.class, () -> keys.waiting(4));
    }

    @Test
    void aTaskShowsItsKeyAndPriorityAndOneWithoutShowsPriorityZeroAndNoKey() {
        long keyed = ready(2, "invoice-42", NOW - 5000);
        long bare = plain(NOW - 4000);
        TaskInfo info = operations.task(task, keyed).orElseThrow();
        assertEquals("invoice-42", info.key());
        assertEquals(2, info.priority());
        ObjectNode json = info.toJson();
        assertEquals("invoice-42", json.path("key").asText());
        assertEquals(2, json.path("priority").asInt());

        TaskInfo plain = new TaskReads(fixture.redis()).get(task, bare).orElseThrow();
        assertNull(plain.key());
        assertEquals(0, plain.priority());
        assertFalse(plain.toJson().has("key"), "no key when the task has none: " + plain.toJson());
        assertEquals(0, plain.toJson().path("priority").asInt(-1), "priority is always there: " + plain.toJson());
    }

    @Test
    void readyCountsEveryPriorityQueueAndTheOldestWaitIsTheLongestOfTheirNextTasks() {
        plain(NOW - 2000);
        ready(1, null, NOW - 1000);
        ready(3, "a", NOW - 9000);
        ready(3, "b", NOW - 500);
        KindStats stats = operations.stats(task);
        assertEquals(4, stats.ready(), "the queues of priority 0, 1 and 3");
        assertEquals(4, stats.waiting());
        assertEquals(9000, stats.oldestWaitingAgeMs(), "the next task of priority 3 has waited longest");
        assertEquals(KindFlow.NONE, stats.flow(), "no flow hash: nothing holds it back");
        assertEquals(0, stats.duplicates());
    }

    @Test
    void aKindAtItsCapSaysSoAndOneBelowItShowsItsCapOnly() {
        raw.hset(keys.flow(), Map.of("max_running", "2"));
        lease(plain(NOW));
        KindStats below = operations.stats(task);
        assertEquals(2, below.flow().maxRunning());
        assertFalse(below.flow().atCap());
        assertFalse(below.flow().holdsBack());

        lease(plain(NOW));
        KindStats at = operations.stats(task);
        assertEquals(2, at.running());
        assertTrue(at.flow().atCap(), "2 running of 2");
        assertTrue(at.flow().holdsBack());
        assertEquals(0, at.flow().blockedUntil(), "a cap lifts when a task ends, at no time known");
    }

    @Test
    void aFullRateWindowLimitsTheKindUntilTheStartThatMakesRoomIsOneWindowOld() {
        // 3 starts per 10 s; 4 starts in the window and one older that no longer counts
        raw.hset(keys.flow(), Map.of("rate_limit", "3", "rate_per", "10000"));
        raw.zadd(keys.rate(), NOW - 12_000, "1:1");
        raw.zadd(keys.rate(), NOW - 8000, "2:1");
        raw.zadd(keys.rate(), NOW - 6000, "3:1");
        raw.zadd(keys.rate(), NOW - 3000, "4:1");
        raw.zadd(keys.rate(), NOW - 1000, "5:1");
        KindStats stats = operations.stats(task);
        // 4 in (now - 10 s, now]: the (4 - 3 + 1) = 2nd oldest of them, at now - 6 s, makes room 10 s after it
        assertEquals(NOW + 4000, stats.flow().rateLimitedUntil());
        assertEquals(NOW + 4000, stats.flow().blockedUntil());
        assertEquals(3, stats.flow().rateLimit());
        assertEquals(10_000, stats.flow().ratePerMs());
        assertFalse(stats.flow().atCap());

        raw.zrem(keys.rate(), "4:1", "5:1");   // 2 in the window: room for one more start
        KindStats room = operations.stats(task);
        assertEquals(0, room.flow().rateLimitedUntil());
        assertFalse(room.flow().holdsBack());
    }

    @Test
    void aHoldAProcessorAskedForShowsUntilWhenAndWhyWhileItLasts() {
        raw.hset(keys.flow(), Map.of("held_until", Long.toString(NOW + 30_000), "held_reason", "the mail service said 429"));
        KindStats held = operations.stats(task);
        assertEquals(NOW + 30_000, held.flow().heldUntil());
        assertEquals("the mail service said 429", held.flow().heldReason());
        assertEquals(NOW + 30_000, held.flow().blockedUntil());
        assertTrue(held.flow().holdsBack());

        raw.hset(keys.flow(), "held_until", Long.toString(NOW - 1));
        KindStats lifted = operations.stats(task);
        assertEquals(0, lifted.flow().heldUntil(), "a hold that has passed holds nothing");
        assertNull(lifted.flow().heldReason());
        assertFalse(lifted.flow().holdsBack());
    }

    @Test
    void duplicatesRefusedAreCountedAndEverythingIsInTheOverviewJson() {
        raw.hset(keys.stats(), "duplicates", "7");
        raw.hset(keys.flow(), Map.of("max_running", "1", "rate_limit", "1", "rate_per", "60000",
                "held_until", Long.toString(NOW + 5000), "held_reason", "slow down"));
        raw.zadd(keys.rate(), NOW - 100, "1:1");
        lease(plain(NOW));
        KindStats stats = operations.stats(task);
        assertEquals(7, stats.duplicates());
        assertEquals(7, new TaskReads(fixture.redis()).stats(task).get("duplicates"));
        JsonNode json = operations.overview(task).toJson();
        assertEquals(7, json.path("duplicates").asLong());
        JsonNode flow = json.path("flow");
        assertEquals(1, flow.path("maxRunning").asLong(), json.toString());
        assertTrue(flow.path("atCap").asBoolean(), json.toString());
        assertEquals(NOW - 100 + 60_000, flow.path("rateLimitedUntil").asLong(), json.toString());
        assertEquals(NOW + 5000, flow.path("heldUntil").asLong(), json.toString());
        assertEquals("slow down", flow.path("heldReason").asText(), json.toString());
        assertEquals(List.of("atCap", "heldReason", "heldUntil", "maxRunning", "rateLimit", "rateLimitedUntil", "ratePerMs"),
                sortedNames(flow), "the flow fields, no more");
    }

    private static List<String> sortedNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names.stream().sorted().toList();
    }

    @Test
    void aFlowHashOfTheWrongTypeOrANumberThatIsNoneIsNamed() {
        raw.set(keys.flow(), "garbage");
        TaskpoolException wrongType = assertThrows(TaskpoolException.class, () -> operations.stats(task));
        assertEquals(keys.flow() + " holds a string, expected a hash", wrongType.getMessage());
        raw.del(keys.flow());
        raw.hset(keys.flow(), "max_running", "lots");
        TaskpoolException notANumber = assertThrows(TaskpoolException.class, () -> operations.stats(task));
        assertEquals(keys.flow() + " field max_running holds 'lots', expected a number", notANumber.getMessage());
        raw.del(keys.flow());
        raw.set(keys.waiting(2), "garbage");
        assertEquals(keys.waiting(2) + " holds a string, expected a list",
                assertThrows(TaskpoolException.class, () -> operations.stats(task)).getMessage());
    }

    @Test
    void theWaitingListingGoesOnFromTheDelayedToEachPrioritysQueueLowestFirstAndPagesAcrossThem() {
        long delayed = adds.addWith(task, null, "[\"later\"]", AddOptions.delay(Duration.ofHours(1)), NOW).id();
        long p0a = plain(NOW);
        long p0b = plain(NOW);
        long p2 = ready(2, "k2", NOW);
        long p3a = ready(3, null, NOW);
        long p3b = ready(3, null, NOW);
        assertEquals(List.of(delayed, p0b, p0a, p2, p3b, p3a), ids(operations.list(task, TaskStatus.WAITING, 100, null)),
                "the reverse of the order they start in: priority 3's next task last");

        List<Long> paged = new ArrayList<>();
        List<String> cursors = new ArrayList<>();
        String cursor = null;
        do {
            TaskPage page = operations.list(task, TaskStatus.WAITING, 2, cursor);
            paged.addAll(ids(page));
            cursor = page.nextCursor();
            cursors.add(cursor);
        } while (cursor != null);
        assertEquals(List.of(delayed, p0b, p0a, p2, p3b, p3a), paged, "every task once, page by page");
        assertEquals(List.of("w" + p0b, "w2:" + p2), cursors.subList(0, 2), "a cursor names the queue it is in");

        // the cursor's task started meanwhile: the listing goes on with the next priority's queue
        raw.lrem(keys.waiting(2), 0, Long.toString(p2));
        assertEquals(List.of(p3b, p3a), ids(operations.list(task, TaskStatus.WAITING, 10, "w2:" + p2)));
        assertThrows(TaskpoolException.class, () -> operations.list(task, TaskStatus.WAITING, 10, "w4:1"));
    }
}
