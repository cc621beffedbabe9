package dev.taskpool.worker.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.PartitionsCases;
import dev.taskpool.worker.process.ProcessRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link PartitionsCases} on a real Redis Cluster (3 masters, 3 replicas), where the partitions
 * of a kind land on different masters: one busy kind uses all three.
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
        }
    }
}
