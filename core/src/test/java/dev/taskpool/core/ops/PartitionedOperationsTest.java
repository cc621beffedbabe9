package dev.taskpool.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operators' and readers' views of a kind with {@code partitions: 3} on a standalone Redis:
 * every read, listing, count and action answers for the kind as a whole, and a task id the kind
 * gave before it was partitioned is still found.
 */
class PartitionedOperationsTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofSeconds(600);
    private static final int SIZE = 1000;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("parts");

    private RedisConnector redis;
    private RunStore runStore;
    private RedisClusterCommands<String, String> raw;
    private String task;

    @BeforeEach
    void connect() {
        redis = fixture.redis();
        runStore = new RunStore(redis);
        raw = fixture.raw();
        task = fixture.task();
    }

    private TaskDefinition definition(int partitions) {
        return new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO, Duration.ofSeconds(5),
                SIZE, "scripts.x.Run", TaskEvents.NONE, KEEP, Backoff.FIXED, FlowControl.NONE, partitions);
    }

    /** A store that has read no layout yet (a store caches the layout it read for a few seconds). */
    private AddStore published(int partitions) {
        AddStore store = new AddStore(redis);
        store.publish(definition(partitions));
        return new AddStore(redis);
    }

    private TaskOperations operations() {
        return new TaskOperations(redis, Clock.fixed(Instant.ofEpochMilli(NOW + 30_000), ZoneOffset.UTC));
    }

    private List<Long> add(AddStore store, int count) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(store.add(task, null, "[" + i + "]", NOW).id());
        }
        return ids;
    }

    private KindLayout layout() {
        return KindLayout.fromDefinition(task, raw.hgetall(Keys.of(task).definition()));
    }

    private static int partitionOf(long id) {
        return (int) (id % KindLayout.ID_STRIDE);
    }

    /** Every task of the listing, page by page, with the cursors it gave. */
    private List<Long> listAll(TaskOperations operations, TaskStatus status, int limit, List<String> cursors) {
        List<Long> all = new ArrayList<>();
        String cursor = null;
        for (int pages = 0; pages < 100; pages++) {
            TaskPage page = operations.list(task, status, limit, cursor);
            page.tasks().forEach(info -> all.add(info.id()));
            cursor = page.nextCursor();
            if (cursor == null) {
                return all;
            }
            cursors.add(cursor);
        }
        throw new AssertionError("the listing did not end within 100 pages: " + all);
    }

    @Test
    void tasksAddedLandInEveryPartitionAndAreReadWhereTheirIdsSay() {
        AddStore store = published(3);
        List<Long> ids = add(store, 9);
        Set<Integer> partitions = new TreeSet<>();
        ids.forEach(id -> partitions.add(partitionOf(id)));
        assertEquals(Set.of(0, 1, 2), partitions, "adds go to each partition in turn: " + ids);
        KindLayout layout = layout();
        TaskReads reads = new TaskReads(redis);
        TaskOperations operations = operations();
        for (long id : ids) {
            assertEquals(1, raw.exists(layout.partition(partitionOf(id)).task(id)), "task #" + id + " in its partition");
            TaskInfo info = reads.get(task, id).orElseThrow(() -> new AssertionError("get " + id));
            assertEquals(task, info.task(), "a task of a partition is a task of the kind");
            assertEquals(TaskStatus.WAITING, info.status());
            assertTrue(operations.task(task, id).isPresent(), "the operators' read of #" + id);
            assertEquals(layout.partition(partitionOf(id)).partition(), reads.partitionOf(task, id));
            // a partition's own name reads it too (as a worker's recoverer does)
            assertTrue(reads.get(layout.partition(partitionOf(id)).partition(), id).isPresent());
        }
        assertTrue(reads.get(task, ids.getLast() + KindLayout.ID_STRIDE * 1000).isEmpty(), "no such task");
        assertEquals(9L, reads.stats(task).get("added"), "the counters are summed over the partitions");
    }

    @Test
    void aListingPagesThroughEveryPartitionOnceWithStableCursors() {
        AddStore store = published(3);
        List<Long> ids = add(store, 10);
        TaskOperations operations = operations();
        List<String> cursors = new ArrayList<>();
        List<Long> listed = listAll(operations, TaskStatus.WAITING, 3, cursors);
        assertEquals(new HashSet<>(ids), new HashSet<>(listed), "every task is listed");
        assertEquals(listed.size(), new HashSet<>(listed).size(), "none twice: " + listed);
        List<Integer> order = listed.stream().map(PartitionedOperationsTest::partitionOf).toList();
        assertEquals(order.stream().sorted().toList(), order, "partition by partition, in partition order: " + listed);
        assertTrue(cursors.stream().anyMatch(cursor -> cursor.startsWith("p1:")), "cursors name their partition: " + cursors);
        assertTrue(cursors.stream().anyMatch(cursor -> cursor.startsWith("p2:")), "cursors name their partition: " + cursors);
        // the same cursor gives the same page again
        String middle = cursors.get(1);
        assertEquals(operations.list(task, TaskStatus.WAITING, 3, middle).tasks().stream().map(TaskInfo::id).toList(),
                operations.list(task, TaskStatus.WAITING, 3, middle).tasks().stream().map(TaskInfo::id).toList());
        // finished tasks too: each partition's index, in partition order
        for (Keys keys : layout().all()) {
            for (FetchedTask run : runStore.fetch(keys.partition(), 10, NOW, NOW + 10_000, "w1", KEEP).join()) {
                runStore.complete(run, TaskStatus.SUCCESS, "1", NOW + 1, KEEP).join();
            }
        }
        List<Long> succeeded = listAll(operations, TaskStatus.SUCCESS, 4, new ArrayList<>());
        assertEquals(new HashSet<>(ids), new HashSet<>(succeeded));
        assertEquals(ids.size(), succeeded.size(), "none twice: " + succeeded);
        assertThrows(dev.taskpool.core.TaskpoolException.class, () -> operations.list(task, TaskStatus.WAITING, 3, "p7:w1"),
                "a cursor naming a partition the kind does not have");
    }

    @Test
    void theCountsAreSummedAndShowEachPartition() {
        AddStore store = published(3);
        add(store, 7);
        TaskOperations operations = operations();
        KindStats stats = operations.stats(task);
        assertEquals(7, stats.waiting());
        assertEquals(7, stats.addedTotal());
        assertEquals(SIZE, stats.size(), "the partitions' shares of size add up to the kind's");
        assertEquals(3, stats.partitions().size());
        KindLayout layout = layout();
        for (PartitionStats row : stats.partitions()) {
            assertEquals(layout.partitions().get(row.number()), row.name());
            assertTrue(row.adding());
            assertNull(row.master(), "no master named on a standalone Redis");
        }
        assertEquals(7, stats.partitions().stream().mapToLong(PartitionStats::waiting).sum());
        assertEquals(List.of(3L, 2L, 2L), stats.partitions().stream().map(PartitionStats::waiting).toList());
        // one partition alone, by its name
        KindStats second = operations.stats(layout.partitions().get(2));
        assertEquals(2, second.waiting());
        assertEquals(1, second.partitions().size());
        assertTrue(operations.overview().kinds().stream().filter(row -> row.task().equals(task)).count() == 1,
                "the overview has one row for the kind");
        UnknownTaskException unknown = assertThrows(UnknownTaskException.class, () -> operations.stats(task + "~7"));
        assertTrue(unknown.getMessage().contains("has no partition '" + task + "~7'"), unknown.getMessage());
    }

    @Test
    void aBrokenKeyOfAnyPartitionIsNamedAndEraseTakesEveryPartition() {
        AddStore store = published(3);
        add(store, 3);
        KindLayout layout = layout();
        String broken = layout.partition(2).waiting(1);
        raw.set(broken, "garbage");
        TaskOperations operations = operations();
        dev.taskpool.core.TaskpoolException e = assertThrows(dev.taskpool.core.TaskpoolException.class,
                () -> operations.stats(task));
        assertTrue(e.getMessage().contains(broken + " holds a string, expected a list"), e.getMessage());
        KindOverview row = operations.overview(task);
        assertNotNull(row.error(), "a row naming the key");
        assertTrue(row.error().contains(broken), row.error());
        operations.erase(task);
        for (Keys keys : layout.all()) {
            assertTrue(raw.keys(keys.keysPattern()).isEmpty(), "no key of " + keys.partition() + " is left");
        }
        assertFalse(operations.kinds().contains(task));
    }

    @Test
    void pauseHoldsEveryPartitionAndResumeWakesThem() {
        AddStore store = published(3);
        add(store, 6);
        TaskOperations operations = operations();
        KindLayout layout = layout();
        operations.pause(task, "ops");
        for (Keys keys : layout.all()) {
            assertEquals(1, raw.exists(keys.paused()), keys.paused());
            raw.del(keys.wake());
            assertTrue(runStore.fetch(keys.partition(), 10, NOW, NOW + 10_000, "w1", KEEP).join().isEmpty(),
                    "a paused partition gives no task: " + keys.partition());
        }
        KindStats paused = operations.stats(task);
        assertTrue(paused.paused());
        assertEquals("ops", paused.pausedBy());
        assertEquals(3, paused.pausedPartitions());
        ControlException again = assertThrows(ControlException.class, () -> operations.pause(task, "ops"));
        assertTrue(again.getMessage().contains("already paused"), again.getMessage());
        operations.resume(task, "ops");
        for (Keys keys : layout.all()) {
            assertEquals(0, raw.exists(keys.paused()));
            assertTrue(raw.llen(keys.wake()) > 0, "an idle worker of " + keys.partition() + " is woken");
            assertEquals(2, runStore.fetch(keys.partition(), 10, NOW, NOW + 10_000, "w1", KEEP).join().size());
        }
        assertThrows(ControlException.class, () -> operations.resume(task, "ops"));
        // one partition alone
        operations.pause(layout.partitions().get(1), "ops");
        KindStats partly = operations.stats(task);
        assertTrue(partly.paused());
        assertEquals(1, partly.pausedPartitions());
        assertFalse(partly.partitions().get(0).paused());
        operations.pause(task, "ops");   // pauses the two others: not refused
        assertEquals(3, operations.stats(task).pausedPartitions());
    }

    @Test
    void actionsByIdRunInTheTaskPartition() {
        AddStore store = published(3);
        List<Long> ids = add(store, 3);
        TaskOperations operations = operations();
        KindLayout layout = layout();
        for (long id : ids) {
            Keys keys = layout.partition(partitionOf(id));
            operations.cancel(task, id, "ops");
            assertEquals("FAILURE", raw.hget(keys.task(id), "status"), "canceled in " + keys.partition());
            operations.retry(task, id, "ops");
            assertEquals("WAITING", raw.hget(keys.task(id), "status"));
            operations.cancel(task, id, "ops");
        }
        assertEquals(6, operations.stats(task).canceled(), "each cancel, in whichever partition");
        assertEquals(3, operations.retryFailed(task, "ops"), "the failed tasks of every partition");
        for (long id : ids) {
            operations.cancel(task, id, "ops");
            operations.delete(task, id);
            assertEquals(0, raw.exists(layout.partition(partitionOf(id)).task(id)), "deleted #" + id);
        }
        ControlException missing = assertThrows(ControlException.class, () -> operations.cancel(task, ids.getFirst(), "ops"));
        assertTrue(missing.getMessage().contains("task " + task + " " + ids.getFirst() + " does not exist"), missing.getMessage());
    }

    @Test
    void aTaskAddedBeforeTheKindWasPartitionedIsStillFound() {
        AddStore before = published(1);
        List<Long> old = add(before, 3);
        assertEquals(List.of(1L, 2L, 3L), old, "an unpartitioned kind's ids");
        AddStore after = published(3);
        List<Long> fresh = add(after, 3);
        KindLayout layout = layout();
        assertEquals(3, layout.partitions().size());
        TaskReads reads = new TaskReads(redis);
        TaskOperations operations = operations();
        for (long id : old) {
            // #1 and #2 end in the numbers of partitions 1 and 2, but stay in partition 0
            assertEquals(1, raw.exists(layout.home().task(id)));
            assertTrue(reads.get(task, id).isPresent(), "get #" + id);
            assertTrue(operations.task(task, id).isPresent(), "the operators' read of #" + id);
            assertEquals(task, reads.partitionOf(task, id));
        }
        Map<String, String> fields = operations.fields(task, old.get(1), "status");
        assertEquals("WAITING", fields.get("status"));
        assertEquals(List.of("WAITING", "WAITING"), operations.fields(task, List.of(old.get(0), fresh.get(1)), "status")
                .stream().map(read -> read.get("status")).toList());
        operations.cancel(task, old.get(0), "ops");
        assertEquals("FAILURE", raw.hget(layout.home().task(old.get(0)), "status"), "canceled where it is");
        List<Long> listed = listAll(operations, TaskStatus.WAITING, 2, new ArrayList<>());
        assertEquals(new HashSet<>(List.of(old.get(1), old.get(2), fresh.get(0), fresh.get(1), fresh.get(2))),
                new HashSet<>(listed));
        assertEquals(6, operations.stats(task).addedTotal());
        assertNotNull(reads.get(task, fresh.getLast()).orElse(null));
    }
}
