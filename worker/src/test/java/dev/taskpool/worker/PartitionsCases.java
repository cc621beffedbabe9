package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kind spread over several hash tags ({@code "partitions": P}), with real Redis: adds spread
 * evenly and every task runs, {@code size} is shared, a unique key makes one task whichever add
 * wins, and changing P with tasks waiting loses none. Subclasses give the Redis: a standalone one
 * ({@link PartitionsTest}) and a Cluster ({@code cluster.PartitionsClusterTest}). Counts and ids
 * only: no assertion on how long anything took.
 */
public abstract class PartitionsCases {
    protected static final Duration LIMIT = Duration.ofSeconds(90);

    @TempDir
    protected Path dir;

    /** The Redis the test runs on. */
    protected abstract String redisUri();

    /** A task kind no other test uses (cleaned up after the test where the Redis is shared). */
    protected abstract String newKind(String base);

    protected Harness open(TestApp app, ProcessRegistry registry) {
        return Harness.open(app.dir(), registry, redisUri());
    }

    protected static TestApp app(Path dir, String kind, int partitions, int size, String process) {
        return TestApp.in(dir).task(kind, 6, 0, 0, 30, size, process, partitions == 1 ? "" : "\"partitions\": " + partitions);
    }

    protected static long stat(RedisClusterCommands<String, String> sync, String partition, String field) {
        String value = sync.hget(Keys.of(partition).stats(), field);
        return value == null ? 0 : Long.parseLong(value);
    }

    /** A counter of the kind: the sum over its partitions. */
    protected static long total(RedisClusterCommands<String, String> sync, KindLayout layout, String field) {
        return layout.partitions().stream().mapToLong(partition -> stat(sync, partition, field)).sum();
    }

    protected static void awaitSucceeded(Harness harness, KindLayout layout, long count) {
        var sync = harness.redis.sync();
        Wait.until(count + " tasks of " + layout.partitions() + " SUCCESS", LIMIT, () -> total(sync, layout, "succeeded") >= count);
        assertEquals(count, total(sync, layout, "succeeded"));
    }

    @Test
    public void addsSpreadEvenlyOverThePartitionsAndEveryTaskRunsInItsOwn() {
        String kind = newKind("parts");
        List<String> ranIn = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry().register("java.parts.Work", args -> {
            ranIn.add(String.valueOf(args.getFirst()));
            return "done";
        });
        try (Harness harness = open(app(dir, kind, 3, 1000, "java.parts.Work"), registry)) {
            KindLayout layout = new KindLayouts(harness.redis).fresh(kind);
            assertEquals(3, layout.partitions().size(), layout.toString());
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 90; i++) {
                ids.add(harness.client.add(kind, i).id());
            }
            assertEquals(90, new HashSet<>(ids).size(), "every id is unique: " + ids);
            Map<Integer, Integer> perPartition = new TreeMap<>();
            var sync = harness.redis.sync();
            for (long id : ids) {
                int k = (int) (id % KindLayout.ID_STRIDE);
                perPartition.merge(k, 1, Integer::sum);
                assertEquals("WAITING", sync.hget(layout.partition(k).task(id), "status"), "task " + id + " is in partition " + k);
            }
            assertEquals(Map.of(0, 30, 1, 30, 2, 30), perPartition, "adds take the partitions in turn");
            checkPlacement(harness, layout);

            harness.startWorker();
            awaitSucceeded(harness, layout, 90);
            for (long id : ids) {
                assertEquals("SUCCESS", sync.hget(layout.ofId(id).task(id), "status"), "task " + id);
            }
            assertEquals(90, ranIn.size());
        }
    }

    /** Where the partitions are: a Cluster test checks that they are on different masters. */
    protected void checkPlacement(Harness harness, KindLayout layout) {
    }

    @Test
    public void eachPartitionHoldsItsShareOfSize() {
        String kind = newKind("partsize");
        try (Harness harness = open(app(dir, kind, 3, 30, "java.partsize.Work"),
                new ProcessRegistry().register("java.partsize.Work", args -> "done"))) {
            for (int i = 0; i < 30; i++) {
                assertFalse(harness.client.add(kind, i).isQueueFull(), "add " + i + " fits its partition's share of 30");
            }
            assertTrue(harness.client.add(kind, 30).isQueueFull(), "the 31st: its partition holds its 10 already");
        }
    }

    @Test
    public void aUniqueKeyMakesOneTaskOfTheKindWhateverTheAddsTurn() {
        String kind = newKind("partkey");
        try (Harness harness = open(app(dir, kind, 3, 100, "java.partkey.Work"),
                new ProcessRegistry().register("java.partkey.Work", args -> "done"))) {
            List<AddResult> results = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                harness.client.add(kind, "plain " + i);   // (moves the turn on between keyed adds)
                results.add(harness.client.addWith(kind, AddOptions.key("invoice-42"), i));
            }
            assertEquals(1, Set.copyOf(results.stream().map(AddResult::id).toList()).size(), results.toString());
            assertEquals(5, results.stream().filter(AddResult::duplicate).count(), results.toString());
            KindLayout layout = new KindLayouts(harness.redis).fresh(kind);
            assertEquals(5, total(harness.redis.sync(), layout, "duplicates"));
        }
    }

    @Test
    public void changingPartitionsWithTasksWaitingLosesNoneAndIdsStayUnique() {
        String kind = newKind("partmove");
        ProcessRegistry registry = new ProcessRegistry().register("java.partmove.Work", args -> "done");
        List<Long> ids = new ArrayList<>();
        // Unpartitioned first: ids 1..10, which stay in partition 0.
        try (Harness one = open(app(dir, kind, 1, 1000, "java.partmove.Work"), registry)) {
            for (int i = 0; i < 10; i++) {
                ids.add(one.client.add(kind, "before " + i).id());
            }
        }
        // Three partitions: the old tasks stay where they are, new ones spread.
        try (Harness three = open(app(dir, kind, 3, 1000, "java.partmove.Work"), registry)) {
            for (int i = 0; i < 30; i++) {
                ids.add(three.client.add(kind, "three " + i).id());
            }
        }
        // Back to two: the third partition takes no adds, and keeps what it holds.
        try (Harness two = open(app(dir, kind, 2, 1000, "java.partmove.Work"), registry)) {
            KindLayout layout = new KindLayouts(two.redis).fresh(kind);
            assertEquals(3, layout.partitions().size(), "a partition is never dropped: " + layout);
            assertEquals(2, layout.adding());
            for (int i = 0; i < 20; i++) {
                long id = two.client.add(kind, "two " + i).id();
                assertTrue(id % KindLayout.ID_STRIDE < 2, "adds go to the first two partitions: " + id);
                ids.add(id);
            }
            assertEquals(60, new HashSet<>(ids).size(), "ids are unique across the changes: " + ids);
            two.startWorker();
            awaitSucceeded(two, layout, 60);
            var sync = two.redis.sync();
            for (long id : ids) {
                String status = sync.hget(layout.ofId(id).task(id), "status");
                if (status == null) {
                    status = sync.hget(layout.home().task(id), "status");   // (an id from before the partitions)
                }
                assertEquals("SUCCESS", status, "task " + id);
            }
        }
    }

    @Test
    public void aRunningWorkerServesThePartitionsItsKindGainsAfterItStarted() {
        String kind = newKind("partgrow");
        ProcessRegistry registry = new ProcessRegistry().register("java.partgrow.Work", args -> "done");
        try (Harness before = open(app(dir, kind, 1, 1000, "java.partgrow.Work"), registry)) {
            before.startWorker();   // knows one partition when it starts
            try (Harness after = open(app(dir, kind, 3, 1000, "java.partgrow.Work"), registry)) {   // publishes three; no worker
                KindLayout layout = new KindLayouts(after.redis).fresh(kind);
                assertEquals(3, layout.partitions().size());
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    ids.add(after.client.add(kind, i).id());
                }
                assertEquals(20, ids.stream().filter(id -> id % KindLayout.ID_STRIDE != 0).count(), "two thirds in the new partitions");
                awaitSucceeded(after, layout, 30);
            }
        }
    }

    @Test
    public void aRateLimitedRunHoldsEveryPartitionOfItsKind() {
        String kind = newKind("partheld");
        Set<String> ran = ConcurrentHashMap.newKeySet();
        ProcessRegistry registry = new ProcessRegistry()
                .register("probe.partheld.FirstRun", args -> ran.add(String.valueOf(args.getFirst())));
        TestApp app = TestApp.in(dir).task(kind, 3, 0, 0, 30, 100, "scripts.partheld.Work", "\"partitions\": 3")
                .script("partheld", """
                        function Work(id, name) {
                          if (name === 'first' && Process('probe.partheld.FirstRun', id)) {
                            throw RateLimited(60000, 'the service answered 429');
                          }
                          return name;
                        }
                        """);
        try (Harness harness = open(app, registry)) {
            var sync = harness.redis.sync();
            KindLayout layout = new KindLayouts(harness.redis).fresh(kind);
            harness.startWorker();
            long first = harness.client.add(kind, "first").id();
            Wait.until("every partition of " + kind + " held", LIMIT, () -> layout.all().stream()
                    .allMatch(keys -> sync.hget(keys.flow(), "held_until") != null));
            Set<String> reasons = new HashSet<>();
            long until = Long.parseLong(sync.hget(layout.ofId(first).flow(), "held_until"));
            for (Keys keys : layout.all()) {
                assertTrue(Math.abs(Long.parseLong(sync.hget(keys.flow(), "held_until")) - until) < 5_000, keys.flow());
                reasons.add(sync.hget(keys.flow(), "held_reason"));
            }
            assertEquals(1, reasons.size(), reasons.toString());
            assertTrue(reasons.iterator().next().contains("429"), reasons.toString());
        }
    }
}
