package dev.taskpool.core.add;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.Range;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Adds with a due time against a real Redis: where the task goes, what its hash holds, `size`, re-sends. */
class DelayedAddTest {
    private static final long NOW = 1_700_000_000_000L;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("delayed-add");

    private AddStore adds;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void publish() {
        adds = new AddStore(fixture.redis());
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        adds.publish(RunStoreTest.definition(task, 5, 1));
    }

    @Test
    void aTaskDueLaterWaitsInTheDelayedSetWithItsDueTime() {
        long id = adds.addWith(task, null, "[1]", AddOptions.delay(Duration.ofSeconds(30)), NOW).id();
        assertEquals("WAITING", raw.hget(keys.task(id), "status"));
        assertEquals(Long.toString(NOW + 30_000), raw.hget(keys.task(id), "due_at"));
        assertEquals(NOW + 30_000, raw.zscore(keys.delayed(), Long.toString(id)));
        assertEquals(0, raw.llen(keys.waiting()), "not in the queue");
        assertEquals(List.of("1"), raw.lrange(keys.wake(), 0, -1), "the earliest due time wakes one idle worker");

        long at = adds.addWith(task, null, "[2]", AddOptions.at(Instant.ofEpochMilli(NOW + 60_000)), NOW).id();
        assertEquals(NOW + 60_000, raw.zscore(keys.delayed(), Long.toString(at)));
        assertEquals(1, raw.llen(keys.wake()), "a later due time wakes no one more");
    }

    @Test
    void aDueTimeNotAfterNowQueuesTheTaskAsAPlainAddDoes() {
        long past = adds.addWith(task, null, "[1]", AddOptions.at(Instant.ofEpochMilli(NOW - 1)), NOW).id();
        long now = adds.addWith(task, null, "[2]", AddOptions.at(Instant.ofEpochMilli(NOW)), NOW).id();
        long zero = adds.addWith(task, null, "[3]", AddOptions.delay(Duration.ZERO), NOW).id();
        assertEquals(List.of(Long.toString(zero), Long.toString(now), Long.toString(past)), raw.lrange(keys.waiting(), 0, -1));
        assertNull(raw.hget(keys.task(past), "due_at"));
        assertEquals(0, raw.zcard(keys.delayed()));
    }

    @Test
    void sizeCountsTheDelayedAndTheReady() {
        adds.addAll(task, List.of(new NewTask(null, "[1]"), new NewTask(null, "[2]"), new NewTask(null, "[3]")),
                AddOptions.delay(Duration.ofMinutes(1)), NOW);
        adds.add(task, null, "[4]", NOW);
        adds.add(task, null, "[5]", NOW);
        assertTrue(adds.addWith(task, null, "[6]", AddOptions.delay(Duration.ofMinutes(1)), NOW).isQueueFull());
        assertTrue(adds.add(task, null, "[7]", NOW).isQueueFull());
        assertEquals(3, raw.zcard(keys.delayed()));
        assertEquals(2, raw.llen(keys.waiting()));
        assertEquals(0, raw.exists(keys.task(6), keys.task(7)), "a refused add writes nothing");
    }

    @Test
    void aBatchOfManyChunksIsDelayedWholeAndItsDueTimeIsFixedWhenTheRequestIsMade() {
        String big = fixture.newTask("delayed-batch");
        adds.publish(RunStoreTest.definition(big, 10_000, 1));
        List<NewTask> tasks = new ArrayList<>();
        for (int i = 0; i < 2500; i++) {
            tasks.add(new NewTask(null, "[" + i + "]"));
        }
        List<Long> ids = adds.addAll(big, tasks, AddOptions.delay(Duration.ofHours(1)), NOW);   // (later chunks' now runs on: a due time far off)
        assertEquals(2500, ids.size());
        Keys bigKeys = Keys.of(big);
        assertEquals(2500, raw.zcount(bigKeys.delayed(), Range.create(NOW + 3_600_000, NOW + 3_600_000)));
        // A request sent again later (its outcome was unknown) keeps its due time, and adds nothing twice.
        AddRequest request = new AddRequest(big, "same", List.of(new NewTask(null, "[1]")), List.of(), NOW + 60_000, NOW + 9000);
        List<Long> first = adds.retryAdd(request, NOW);
        assertEquals(first, adds.retryAdd(request, NOW + 20_000));
        assertEquals(NOW + 9000, raw.zscore(bigKeys.delayed(), Long.toString(first.getFirst())));
        assertEquals(2501, raw.zcard(bigKeys.delayed()));
    }
}
