package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.EventChannels;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.LocalRedisCluster;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * In a Redis Cluster the scripts publish with sharded pub/sub (mode {@code sharded}): SPUBLISH on
 * the task's channel and on the kind's events channel, each only when the master of the kind's
 * slot counts a subscriber of it (PUBSUB SHARDNUMSUB), never a classic PUBLISH (which the cluster
 * bus would carry to every node). Subscriptions go through {@link EventChannels}, as taskpool's
 * own do, so the count the scripts see is the one Lettuce's SSUBSCRIBE made. Each case uses a kind
 * of its own and counts the commands of its master (INFO commandstats) before and after.
 */
class ShardedEventModeTest {
    private static final long NOW = 1_700_000_000_000L;
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

    @Test
    void theModeInAClusterIsSharded() {
        try (RedisConnector redis = RedisConnector.connect(cluster.uri())) {
            assertEquals("sharded", EventMode.of(redis));
        }
        assertEquals("sharded-all", EventMode.of(true, true));
        assertEquals("all", EventMode.of(false, true));
        assertEquals("heard", EventMode.of(false, false));
    }

    @Test
    void aTaskNobodyListensToCostsNoPublishOfAnyKind() {
        String kind = "nobody-" + System.nanoTime();
        try (RedisConnector redis = RedisConnector.connect(cluster.uri())) {
            Map<LocalRedis, Long> before = publishesOnEveryNode();
            runThreeTasks(redis, kind);
            assertEquals(before, publishesOnEveryNode(), "no subscriber: no SPUBLISH and no PUBLISH on any node");
        }
    }

    @Test
    void anAwaitedTaskGetsEveryEventInOrderAndOnlyItsOwnArePublishedOnItsShard() throws Exception {
        String kind = "awaited-" + System.nanoTime();
        try (RedisConnector redis = RedisConnector.connect(cluster.uri()); EventChannels channels = new EventChannels(redis)) {
            assertTrue(channels.sharded());
            LocalRedis master = masterOf(kind);
            new AddStore(redis).publish(RunStoreTest.definition(kind, 100, 0));
            BlockingQueue<String> heard = new LinkedBlockingQueue<>();
            channels.subscribe(Keys.of(kind).events(2), (channel, message) -> heard.add(message));   // the counter's second id
            assertEquals(1, shardSubscribers(master, Keys.of(kind).events(2)),
                    "the subscription is on the master of the kind's slot, where the scripts count it");
            long spublished = spublishCalls(master);
            runThreeTasks(redis, kind);
            assertEquals(List.of("added", "started", "success"), List.of(event(heard), event(heard), event(heard)));
            assertEquals(3, spublishCalls(master) - spublished, "only the awaited task's three events are published");
        }
    }

    @Test
    void theKindsEventsChannelGetsEveryEventOfEveryTask() throws Exception {
        String kind = "whole-" + System.nanoTime();
        try (RedisConnector redis = RedisConnector.connect(cluster.uri()); EventChannels channels = new EventChannels(redis)) {
            LocalRedis master = masterOf(kind);
            new AddStore(redis).publish(RunStoreTest.definition(kind, 100, 0));
            BlockingQueue<String> heard = new LinkedBlockingQueue<>();
            channels.subscribe(Keys.of(kind).kindEvents(), (channel, message) -> heard.add(message));
            long spublished = spublishCalls(master);
            runThreeTasks(redis, kind);
            for (int i = 0; i < 9; i++) {
                assertTrue(event(heard).matches("added|started|success"));
            }
            assertEquals(9, spublishCalls(master) - spublished, "each event once, on the kind's channel only");
        }
    }

    @Test
    void everyEventTypeReachesTheKindsChannelsWithTheFieldsTaskEventLists() throws Exception {
        String kind = "schema-" + System.nanoTime();
        Keys keys = Keys.of(kind);
        try (RedisConnector redis = RedisConnector.connect(cluster.uri()); EventChannels channels = new EventChannels(redis)) {
            BlockingQueue<EventSchemaTest.Heard> heard = new LinkedBlockingQueue<>();
            channels.subscribe(keys.kindEvents(), (channel, message) -> heard.add(new EventSchemaTest.Heard(channel, message)));
            channels.subscribe(keys.control(), (channel, message) -> heard.add(new EventSchemaTest.Heard(channel, message)));
            EventSchemaTest.runEveryTransition(redis, kind, keys);
            EventSchemaTest.checkEveryType(heard, keys);
        }
    }

    @Test
    void aUserWhoseAclRulesLackTheShardQuestionLosesNothingAndPublishesEverything() {
        String kind = "older-" + System.nanoTime();
        for (LocalRedis node : cluster.nodes()) {
            assertEquals("OK", cluster.cli(node, "ACL", "SETUSER", "older-shard", "on", ">secret", "resetkeys", "resetchannels",
                    "~taskpool:*", "&taskpool:*", "+@all", "-pubsub").trim());
        }
        String uri = cluster.uri().replace("redis://", "redis://older-shard:secret@");
        try (RedisConnector older = RedisConnector.connect(uri)) {
            LocalRedis master = masterOf(kind);
            long spublished = spublishCalls(master);
            runThreeTasks(older, kind);
            assertEquals(0, older.sync().llen(Keys.of(kind).waiting()), "every task fetched was run and ended: none lost half-way");
            assertEquals(18, spublishCalls(master) - spublished,
                    "refused the question, the scripts publish every event, on the task's channel and the kind's");
        }
    }

    /** Publishes the kind, adds three tasks, then one round trip takes them and the next ends them in SUCCESS. */
    private static void runThreeTasks(RedisConnector redis, String kind) {
        AddStore addStore = new AddStore(redis);
        RunStore runStore = new RunStore(redis);
        addStore.publish(RunStoreTest.definition(kind, 100, 0));
        for (int i = 0; i < 3; i++) {
            addStore.add(kind, null, "[" + i + "]", NOW);
        }
        List<FetchedTask> runs = runStore.finish(kind, "w", List.of(), 10, NOW, NOW + 10_000, Duration.ofHours(1)).join().fetched();
        assertEquals(3, runs.size());
        runStore.finish(kind, "w", runs.stream().map(run -> new RunStore.Completion(run, TaskStatus.SUCCESS, "1")).toList(),
                0, NOW + 1, NOW + 10_000, Duration.ofHours(1)).join();
    }

    private static LocalRedis masterOf(String kind) {
        return cluster.masterOf(SlotHash.getSlot(Keys.of(kind).waiting()));
    }

    /** The next event's name; fails when none comes within 30 s. */
    private static String event(BlockingQueue<String> heard) throws InterruptedException {
        String message = heard.poll(30, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("no event came within 30 s");
        }
        return message.replaceAll("^\\{\"event\":\"([a-z]+)\".*$", "$1");
    }

    private static long shardSubscribers(LocalRedis node, String channel) {
        String[] reply = cluster.cli(node, "PUBSUB", "SHARDNUMSUB", channel).trim().split("\\s+");
        return Long.parseLong(reply[reply.length - 1]);
    }

    /** SPUBLISH and PUBLISH calls of each node (scripts' commands count too). */
    private static Map<LocalRedis, Long> publishesOnEveryNode() {
        Map<LocalRedis, Long> counts = new HashMap<>();
        for (LocalRedis node : cluster.nodes()) {
            counts.put(node, calls(node, "cmdstat_spublish") + calls(node, "cmdstat_publish"));
        }
        return counts;
    }

    static long spublishCalls(LocalRedis node) {
        return calls(node, "cmdstat_spublish");
    }

    static long calls(LocalRedis node, String stat) {
        for (String line : cluster.cli(node, "INFO", "commandstats").split("\r?\n")) {
            if (line.startsWith(stat + ":")) {
                return Long.parseLong(line.replaceAll("^" + stat + ":calls=(\\d+),.*", "$1"));
            }
        }
        return 0;
    }
}
