package dev.taskpool.worker.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.Subscription;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.EveryKindEvents;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.SlotHash;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Cluster's events are sharded pub/sub: they stay on the shard of their kind's slot (a master
 * serving no busy kind sees no event traffic), and the subscriptions of a client ({@code await},
 * {@code subscribe}, {@code subscribeAll}) and of operators' views ({@link EveryKindEvents}, what
 * {@code taskpool watch} and the dashboard use) follow the kind's slot to the promoted replica
 * after a planned failover and after the master is killed with kill -9, where the scripts count
 * them again. Deadlines are generous: the failover itself takes a few node timeouts.
 */
class ShardedEventsClusterTest {
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration LONG = Duration.ofSeconds(90);
    private static final String PROCESS = "models.load.work";
    private static LocalRedisCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void startCluster() {
        cluster = LocalRedisCluster.start(3, NODE_TIMEOUT);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aMasterThatServesNoBusyKindSeesNoEventTraffic() {
        String busy = kindsOnEveryMaster("busy").getFirst();
        LocalRedis busyMaster = masterOf(busy);
        LocalRedis busyReplica = cluster.replicaOf(busyMaster);
        TestApp app = TestApp.in(dir).task(busy, 2, 1, 0, 30, 1000, PROCESS, "");
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> args.getFirst());
        Set<Long> seenByClient = ConcurrentHashMap.newKeySet();
        Set<Long> seenByOperators = ConcurrentHashMap.newKeySet();
        try (Harness harness = Harness.open(app.dir(), registry, cluster.seedsUri());
             Subscription ignored = harness.client.subscribeAll(busy, successes(seenByClient));
             EveryKindEvents operators = EveryKindEvents.follow(harness.redis, (kind, channel, message) -> {
                 TaskEvent event = TaskEvent.parse(message);
                 if (busy.equals(kind) && TaskEvent.SUCCESS.equals(event.event())) {
                     seenByOperators.add(event.id());
                 }
             })) {
            harness.startWorker();
            Map<LocalRedis, Map<String, Long>> before = trafficOfEveryNode();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                ids.add(harness.client.add(busy, "task " + i).id());
            }
            for (long id : ids) {
                assertEquals(TaskStatus.SUCCESS, harness.client.await(busy, id, LONG).status());
            }
            Wait.until("the success events of the 20 tasks at the client and the operators' view", LONG,
                    () -> seenByClient.containsAll(ids) && seenByOperators.containsAll(ids));
            Map<LocalRedis, Map<String, Long>> after = trafficOfEveryNode();
            Map<String, Map<String, Long>> idle = new LinkedHashMap<>();
            for (LocalRedis node : cluster.nodes()) {
                Map<String, Long> moved = delta(before.get(node), after.get(node));
                if (node != busyMaster && node != busyReplica && !moved.isEmpty()) {
                    idle.put(node.toString(), moved);
                }
                assertEquals(0L, moved.getOrDefault("cmdstat_publish", 0L), "no classic PUBLISH on " + node);
            }
            assertEquals(Map.of(), idle, "the nodes of the other shards saw no event: no SPUBLISH, nothing over the bus");
            assertTrue(delta(before.get(busyMaster), after.get(busyMaster)).getOrDefault("cmdstat_spublish", 0L) >= 60,
                    "the busy kind's master published its events (three per task, on the kind's channel): " + after.get(busyMaster));
            // The shard's replica gets them too (where a subscriber on it would hear them): over the cluster
            // bus or in the replication stream, as Redis chooses; its counters may trail the master's a moment.
            Wait.until("the busy master's replica, in its shard, to get its events", LONG, () -> {
                Map<String, Long> moved = delta(before.get(busyReplica), trafficOfEveryNode().get(busyReplica));
                return moved.getOrDefault("cluster_stats_messages_publishshard_received", 0L) > 0
                        || moved.getOrDefault("cmdstat_spublish", 0L) > 0;
            });
        }
    }

    @Test
    void eventsFollowTheKindAcrossAPlannedFailover() {
        followAFailover("planned", victim -> {
            LocalRedis replica = cluster.replicaOf(victim);
            cluster.cli(replica, "CLUSTER", "FAILOVER");
            Wait.until(replica + " to become a master", LONG, () -> cluster.cli(replica, "ROLE").startsWith("master"));
        }, victim -> { });
    }

    /**
     * A replica accepts SSUBSCRIBE: a subscription made again through a stale view of the Cluster
     * may land on the old master, a replica now. None stays there (it would deliver each event a
     * second time, and the scripts, which count the master's subscribers, would not see it).
     */
    private static void noSubscriptionStaysOn(LocalRedis oldMaster, String kind, long id) {
        Wait.until("no subscription of " + kind + " to stay on the old master " + oldMaster + ", a replica now", LONG,
                () -> shardSubscribers(oldMaster, Keys.of(kind).kindEvents()) == 0
                        && shardSubscribers(oldMaster, Keys.of(kind).control()) == 0
                        && shardSubscribers(oldMaster, Keys.of(kind).events(id)) == 0);
    }

    @Test
    void eventsFollowTheKindAfterItsMasterIsKilledWithKill9() {
        followAFailover("killed", victim -> {
            victim.kill();
            Wait.until("the replica of the killed " + victim + " to take over", LONG, () -> !cluster.masters().contains(victim));
        }, LocalRedis::restart);   // it comes back empty and joins as a replica of the promoted node
    }

    /**
     * Subscriptions made before the fault (a client's to one kind and to the next task's channel,
     * the operators' view of every kind) hear the events of a task added after the promoted replica
     * took the kind's slot, and that master counts them (PUBSUB SHARDNUMSUB), so its scripts publish.
     */
    private void followAFailover(String name, Consumer<LocalRedis> fault, Consumer<LocalRedis> repair) {
        String kind = kindsOnEveryMaster(name).getFirst();
        LocalRedis victim = masterOf(kind);
        TestApp app = TestApp.in(dir).task(kind, 2, 1, 0, 30, 1000, PROCESS, "");
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> args.getFirst());
        Set<Long> seenByClient = ConcurrentHashMap.newKeySet();
        Set<Long> seenByOperators = ConcurrentHashMap.newKeySet();
        Set<Long> seenOnItsChannel = ConcurrentHashMap.newKeySet();
        try (Harness harness = Harness.open(app.dir(), registry, cluster.seedsUri())) {
            harness.startWorker();
            try (Subscription ignored = harness.client.subscribeAll(kind, successes(seenByClient));
                 EveryKindEvents operators = EveryKindEvents.follow(harness.redis, (of, channel, message) -> {
                     TaskEvent event = TaskEvent.parse(message);
                     if (kind.equals(of) && TaskEvent.SUCCESS.equals(event.event())) {
                         seenByOperators.add(event.id());
                     }
                 })) {
                long first = harness.client.add(kind, "before").id();
                assertEquals(TaskStatus.SUCCESS, harness.client.await(kind, first, LONG).status());
                Wait.until("the success event of " + kind + " #" + first + " before the fault", LONG,
                        () -> seenByClient.contains(first) && seenByOperators.contains(first));
                // the next add takes the next id: its channel is subscribed before the fault
                long next = first + 1;
                try (Subscription own = harness.client.subscribe(kind, next, successes(seenOnItsChannel))) {
                    fault.accept(victim);
                    Wait.until("the promoted replica of " + victim + " to count the subscriptions made again on it (the"
                                    + " client's and the operators' view of the kind's channel, the client's of #" + next + ")", LONG,
                            () -> {
                                LocalRedis promoted = masterOf(kind);
                                return promoted != victim && shardSubscribers(promoted, Keys.of(kind).kindEvents()) >= 2
                                        && shardSubscribers(promoted, Keys.of(kind).events(next)) >= 1;
                            });
                    long after = harness.client.add(kind, "after").id();
                    assertEquals(next, after, "the add after the " + name + " failover takes the next id");
                    assertEquals(TaskStatus.SUCCESS, harness.client.await(kind, after, LONG).status());
                    Wait.until("the success event of " + kind + " #" + after + " after the " + name + " failover, at the"
                                    + " client's subscription to the kind, to the task, and at the operators' view", LONG,
                            () -> seenByClient.contains(after) && seenOnItsChannel.contains(after)
                                    && seenByOperators.contains(after));
                    if (victim.process().isAlive()) {
                        noSubscriptionStaysOn(victim, kind, next);
                    }
                }
            }
        } finally {
            repair.accept(victim);
            cluster.awaitHealthy(LONG);
        }
    }

    private static Consumer<TaskEvent> successes(Set<Long> seen) {
        return event -> {
            if (TaskEvent.SUCCESS.equals(event.event())) {
                seen.add(event.id());
            }
        };
    }

    /** The master of the kind's slot in a living node's view; null while it names none (a failover under way). */
    private static LocalRedis masterOf(String kind) {
        try {
            return cluster.masterOf(SlotHash.getSlot(Keys.of(kind).waiting()));
        } catch (IllegalStateException e) {
            return null;
        }
    }

    private static long shardSubscribers(LocalRedis node, String channel) {
        try {
            String[] reply = cluster.cli(node, "PUBSUB", "SHARDNUMSUB", channel).trim().split("\\s+");
            return Long.parseLong(reply[reply.length - 1]);
        } catch (RuntimeException e) {
            return 0;   // the node is not answering yet
        }
    }

    /** Per node: its SPUBLISH and PUBLISH calls and the pub/sub messages it got over the cluster bus. */
    private static Map<LocalRedis, Map<String, Long>> trafficOfEveryNode() {
        Map<LocalRedis, Map<String, Long>> traffic = new HashMap<>();
        for (LocalRedis node : cluster.nodes()) {
            Map<String, Long> counters = new HashMap<>();
            String stats = cluster.cli(node, "INFO", "commandstats") + "\n" + cluster.cli(node, "CLUSTER", "INFO");
            for (String line : stats.split("\r?\n")) {
                if (line.startsWith("cmdstat_spublish:") || line.startsWith("cmdstat_publish:")) {
                    counters.put(line.substring(0, line.indexOf(':')), Long.parseLong(line.replaceAll("^[a-z_]+:calls=(\\d+),.*", "$1")));
                } else if (line.startsWith("cluster_stats_messages_publish_received:")
                        || line.startsWith("cluster_stats_messages_publishshard_received:")) {
                    counters.put(line.substring(0, line.indexOf(':')), Long.parseLong(line.substring(line.indexOf(':') + 1).trim()));
                }
            }
            traffic.put(node, counters);
        }
        return traffic;
    }

    /** What grew from {@code before} to {@code after} (counters that did not are left out). */
    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> grown = new HashMap<>();
        after.forEach((name, value) -> {
            long growth = value - before.getOrDefault(name, 0L);
            if (growth != 0) {
                grown.put(name, growth);
            }
        });
        return grown;
    }

    /** One kind per master: names whose hash tag lands on each master in turn. */
    private static List<String> kindsOnEveryMaster(String prefix) {
        Map<LocalRedis, String> byMaster = new LinkedHashMap<>();
        List<LocalRedis> masters = cluster.masters();
        String run = Long.toString(System.nanoTime(), 36);
        for (int i = 0; byMaster.size() < masters.size() && i < 10_000; i++) {
            String kind = prefix + "-" + run + "-" + i;
            byMaster.putIfAbsent(cluster.masterOf(SlotHash.getSlot(Keys.of(kind).waiting())), kind);
        }
        assertEquals(masters.size(), byMaster.size(), "found a kind for each master");
        return List.copyOf(byMaster.values());
    }
}
