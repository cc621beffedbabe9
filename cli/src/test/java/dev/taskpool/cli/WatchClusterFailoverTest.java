package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskpool watch KIND} on a real Redis Cluster, where a kind's events are sharded pub/sub
 * on its slot's master: the watch keeps getting them after a planned failover moves the slot to
 * the replica (its subscription is made again on the promoted master). Deadlines are generous:
 * the failover itself takes a few node timeouts.
 */
class WatchClusterFailoverTest {
    private static final Duration LONG = Duration.ofSeconds(90);
    private static LocalRedisCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void startCluster() {
        cluster = LocalRedisCluster.start(3, Duration.ofSeconds(2));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Subscribers of a shard channel on one node (PUBSUB SHARDNUMSUB). */
    private static long shardSubscribers(LocalRedis node, String channel) {
        List<String> lines = cluster.cli(node, "PUBSUB", "SHARDNUMSUB", channel).lines().filter(line -> !line.isBlank()).toList();
        return lines.size() < 2 ? 0 : Long.parseLong(lines.get(1).trim());
    }

    @Test
    void watchOfAKindKeepsGettingItsEventsAcrossAPlannedFailover() throws Exception {
        String kind = TestRedis.uniqueTaskId("watchfo");
        TestApp app = TestApp.in(dir).task(kind, 2, 0, 0, 30, 100, "java.watchfo.Work", "");
        ProcessRegistry registry = new ProcessRegistry().register("java.watchfo.Work", args -> "done");
        try (Harness harness = Harness.open(app.dir(), registry, cluster.uri())) {
            harness.startWorker();
            String channel = Keys.of(kind).kindEvents();
            LocalRedis master = cluster.masterOf(cluster.slotOf(channel));
            CompletableFuture<Result> watch = CompletableFuture.supplyAsync(() -> execute("watch", kind, "--events", "6",
                    "--json", "--for", "150s", "--redis", cluster.uri()));
            Wait.until("watch to subscribe to " + channel + " on " + master, LONG, () -> shardSubscribers(master, channel) >= 1);
            long before = harness.client.add(kind, "before").id();
            harness.client.await(kind, before, LONG);

            LocalRedis replica = cluster.replicaOf(master);
            cluster.cli(replica, "CLUSTER", "FAILOVER");
            Wait.until(replica + " to become a master", LONG, () -> cluster.cli(replica, "ROLE").startsWith("master"));
            Wait.until("watch to subscribe again on the promoted " + replica, LONG, () -> shardSubscribers(replica, channel) >= 1);
            long after = harness.client.add(kind, "after").id();

            Result watched = watch.get(200, TimeUnit.SECONDS);
            assertEquals(0, watched.code(), watched.err());
            for (long id : List.of(before, after)) {
                for (String event : List.of("added", "started", "success")) {
                    assertTrue(watched.out().lines().anyMatch(line -> line.contains("\"event\":\"" + event + "\"")
                            && line.contains("\"id\":" + id + ",")), "the " + event + " event of #" + id + " was watched:\n" + watched.out());
                }
            }
        } finally {
            cluster.awaitHealthy(LONG);
        }
    }
}
