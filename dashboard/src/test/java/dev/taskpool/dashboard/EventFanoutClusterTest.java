package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.SlotHash;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's event stream on a Redis Cluster, where events are shard channels: it follows each
 * published kind's channels, including a kind published after it started (the registry is read
 * again every few seconds), and after a planned failover of the kind's master it still streams
 * the kind's events, from the promoted replica.
 */
class EventFanoutClusterTest {
    private static final Duration LONG = Duration.ofSeconds(90);
    private static final String PROCESS = "models.load.work";

    @TempDir
    Path dir;

    @Test
    void theStreamFollowsAKindPublishedLaterAndAcrossAPlannedFailover() throws Exception {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3, Duration.ofSeconds(2))) {
            String kind = "fanout-" + Long.toString(System.nanoTime(), 36);
            TestApp app = TestApp.in(dir).task(kind, 2, 1, 0, 30, 1000, PROCESS, "");
            ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> args.getFirst());
            try (Harness harness = Harness.open(app.dir(), registry, cluster.seedsUri());
                 EventFanout fanout = new EventFanout(harness.redis)) {
                EventFanout.Listener page = fanout.listen(kind, null);
                Set<Long> succeeded = ConcurrentHashMap.newKeySet();
                Thread reader = Thread.ofVirtual().start(() -> {
                    try {
                        while (!Thread.currentThread().isInterrupted()) {
                            EventFanout.Event event = page.next(1000);
                            if (event != null && TaskEvent.SUCCESS.equals(event.what())) {
                                succeeded.add(event.id());
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                try {
                    harness.startWorker();   // publishes the kind after the stream started
                    // the stream follows it within the registry's re-read; until then its events are not seen
                    Wait.until("the stream to follow " + kind + ", published after it started", LONG, () -> {
                        long id = harness.client.add(kind, "probe").id();
                        harness.client.await(kind, id, LONG);
                        return succeeded.contains(id);
                    });
                    LocalRedis master = cluster.masterOf(SlotHash.getSlot(Keys.of(kind).waiting()));
                    LocalRedis replica = cluster.replicaOf(master);
                    cluster.cli(replica, "CLUSTER", "FAILOVER");
                    Wait.until(replica + " to become a master", LONG, () -> cluster.cli(replica, "ROLE").startsWith("master"));
                    Wait.until("the promoted " + replica + " to count the stream's subscription", LONG,
                            () -> cluster.cli(replica, "PUBSUB", "SHARDNUMSUB", Keys.of(kind).kindEvents()).trim().endsWith("1"));
                    long after = harness.client.add(kind, "after the failover").id();
                    assertEquals(TaskStatus.SUCCESS, harness.client.await(kind, after, LONG).status());
                    Wait.until("the success of " + kind + " #" + after + " on the stream after the failover", LONG,
                            () -> succeeded.contains(after));
                } finally {
                    reader.interrupt();
                }
            }
        }
    }
}
