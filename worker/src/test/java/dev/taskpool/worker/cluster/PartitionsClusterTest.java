package dev.taskpool.worker.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.KindStats;
import dev.taskpool.core.ops.PartitionStats;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskPage;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.PartitionsCases;
import dev.taskpool.worker.process.ProcessRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link PartitionsCases} on a real Redis Cluster (3 masters, 3 replicas), where the partitions
 * of a kind land on different masters: one busy kind uses all three; and a partition whose slot
 * is resharded to another master under load keeps working.
 */
class PartitionsClusterTest extends PartitionsCases {
    private static LocalRedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = LocalRedisCluster.start(3, Duration.ofSeconds(5));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected String redisUri() {
        return cluster.uri();
    }

    @Override
    protected String newKind(String base) {
        return TestRedis.uniqueTaskId(base);   // the Cluster is thrown away after the class
    }

    @Override
    protected void checkPlacement(Harness harness, KindLayout layout) {
        Set<String> masters = layout.partitions().stream().map(name -> harness.redis.masterOf(layout.partition(
                Keys.partitionNumber(name)).waiting())).collect(Collectors.toSet());
        assertEquals(3, masters.size(), "three partitions on three masters: " + layout.partitions() + " on " + masters);
    }

    @Test
    void threeThousandTasksOfOnePartitionedKindUseEveryMasterAndAllSucceed() {
        String kind = newKind("partbusy");
        try (Harness harness = open(app(dir, kind, 3, 10_000, "java.partbusy.Work"),
                new ProcessRegistry().register("java.partbusy.Work", args -> "done"))) {
            List<List<Object>> batch = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                batch.add(List.of(i));
                if (batch.size() == 100) {
                    ids.addAll(harness.client.addAll(kind, batch));
                    batch.clear();
                }
            }
            KindLayout layout = new KindLayouts(harness.redis).fresh(kind);
            Map<String, Long> perMaster = new TreeMap<>();
            var sync = harness.redis.sync();
            for (String partition : layout.partitions()) {
                perMaster.merge(harness.redis.masterOf(Keys.of(partition).waiting()),
                        stat(sync, partition, "added"), Long::sum);
            }
            assertEquals(3, perMaster.size(), "every master holds a partition: " + perMaster);
            for (var entry : perMaster.entrySet()) {
                assertTrue(entry.getValue() >= 600 && entry.getValue() <= 1350,
                        "between 20 % and 45 % of the 3,000 on each master: " + perMaster);
            }
            assertEquals(3000, Set.copyOf(ids).size());
            harness.startWorker();
            awaitSucceeded(harness, layout, 3000);
            assertEquals(0, IntStream.range(0, 3).mapToLong(k -> sync.llen(layout.partition(k).waiting())).sum());

            // get, list and stats see one kind.
            TaskOperations operations = new TaskOperations(harness.redis);
            KindStats stats = operations.stats(kind);
            assertEquals(3000, stats.succeededTotal(), stats.toString());
            assertEquals(3000, stats.addedTotal(), stats.toString());
            assertEquals(10_000, stats.size(), "size is the kind's, summed over its partitions: " + stats);
            assertEquals(3, stats.partitions().size(), stats.toString());
            assertEquals(3, stats.partitions().stream().map(PartitionStats::master).distinct().count(), stats.partitions().toString());
            for (long id : List.of(ids.getFirst(), ids.get(1), ids.get(2), ids.getLast())) {
                assertEquals(TaskStatus.SUCCESS, harness.client.get(kind, id).orElseThrow().status(), "get " + id);
            }
            Set<Long> listed = new HashSet<>();
            String cursor = null;
            do {
                TaskPage page = operations.list(kind, TaskStatus.SUCCESS, 500, cursor);
                page.tasks().forEach(task -> assertTrue(listed.add(task.id()), "listed once: " + task.id()));
                cursor = page.nextCursor();
            } while (cursor != null);
            assertEquals(Set.copyOf(ids), listed, "list pages through every task of the kind");
        }
    }

    @Test
    void aPartitionWhoseSlotMovesToAnotherMasterKeepsWorkingUnderLoad() throws Exception {
        String kind = newKind("partmoved");
        try (Harness harness = open(app(dir, kind, 3, 100_000, "java.partmoved.Work"),
                new ProcessRegistry().register("java.partmoved.Work", args -> "done"))) {
            KindLayout layout = new KindLayouts(harness.redis).fresh(kind);
            List<Long> acknowledged = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 150; i++) {
                acknowledged.add(harness.client.add(kind, "before " + i).id());
            }
            harness.startWorker();
            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicLong refused = new AtomicLong();
            Thread producer = Thread.ofPlatform().name("producer").start(() -> {
                for (int i = 0; producing.get(); i++) {
                    try {
                        acknowledged.add(harness.client.add(kind, "during " + i).id());
                    } catch (RuntimeException e) {
                        refused.incrementAndGet();   // (an add that met the move may be refused: it was not acknowledged)
                    }
                }
            });
            try {
                int slot = cluster.slotOf(layout.partition(1).waiting());
                var target = cluster.masterOf(cluster.slotOf(layout.partition(0).waiting()));
                Thread.sleep(300);
                cluster.moveSlot(slot, target);
                assertEquals(target, cluster.masterOf(slot), "the slot of partition 1 moved");
                Thread.sleep(500);
            } finally {
                producing.set(false);
                producer.join(30_000);
            }
            long during = acknowledged.stream().filter(id -> id % KindLayout.ID_STRIDE == 1).count();
            assertTrue(during > 50, "partition 1 took adds: " + during);
            var sync = harness.redis.sync();
            Wait.until("every acknowledged task of " + kind + " SUCCESS (" + acknowledged.size() + ", " + refused.get()
                    + " adds refused during the move)", LIMIT, () -> acknowledged.stream()
                    .allMatch(id -> "SUCCESS".equals(sync.hget(layout.ofId(id).task(id), "status"))));
            assertEquals(acknowledged.size(), Set.copyOf(acknowledged).size(), "no id given twice");
        }
    }

    @Test
    void eventsOfEveryPartitionReachAWholeKindSubscriptionAndAwait() {
        String kind = newKind("partevents");
        try (Harness harness = open(app(dir, kind, 3, 1000, "java.partevents.Work"),
                new ProcessRegistry().register("java.partevents.Work", args -> "done"))) {
            Set<Long> succeeded = ConcurrentHashMap.newKeySet();
            try (var subscription = harness.client.subscribeAll(kind, event -> {
                if ("success".equals(event.event())) {
                    succeeded.add(event.id());
                }
            })) {
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    ids.add(harness.client.add(kind, i).id());
                }
                harness.startWorker();
                for (long id : ids) {
                    assertEquals(TaskStatus.SUCCESS, harness.client.await(kind, id, LIMIT).status(), "await " + id);
                }
                Wait.until("a success event of each of the 30 tasks, from its partition's shard channel", LIMIT,
                        () -> succeeded.containsAll(ids));
                assertEquals(Set.of(0L, 1L, 2L), Set.copyOf(ids.stream().map(id -> id % KindLayout.ID_STRIDE).toList()));
            }
        }
    }
}
