package dev.taskpool.core.add;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An add's id reaches the caller only once a replica holds the add, so a failover to that replica
 * cannot hand the id out again. Shown by freezing the only replica: the add stays unanswered while
 * it is frozen and answers once it thaws (a WAIT sent on another connection than the add's would
 * have answered at once, since it counts only that connection's writes).
 */
class ReplicationFenceTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);

    private static TaskDefinition definition(String id) {
        return new TaskDefinition(id, "tasks/" + id + ".yao", "test", 2, 1, Duration.ZERO, Duration.ofSeconds(5),
                1000, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60));
    }

    @Test
    void anAddOnAStandaloneMasterAnswersOnlyOnceItsReplicaHasIt() throws Exception {
        try (LocalRedis master = LocalRedis.start();
             LocalRedis replica = LocalRedis.startServer(List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())))) {
            awaitReplicaLinked(replica);
            try (RedisConnector redis = RedisConnector.connect(master.uri(), COMMAND_TIMEOUT)) {
                addWhileReplicaFrozen(redis, replica, replica.uri(), TestRedis.uniqueTaskId("fence"));
            }
        }
    }

    @Test
    void anAddInAClusterAnswersOnlyOnceTheReplicaOfItsSlotsMasterHasIt() throws Exception {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3, Duration.ofSeconds(5))) {
            String task = TestRedis.uniqueTaskId("fence");
            LocalRedis master = cluster.masterOf(cluster.slotOf(Keys.of(task).definition()));
            LocalRedis replica = cluster.replicaOf(master);
            try (RedisConnector redis = RedisConnector.connect(cluster.uri(), COMMAND_TIMEOUT)) {
                // the topology the client read must know the replica before the fence can wait for it
                Wait.until("the client to see the replica of " + master, Duration.ofSeconds(60),
                        () -> redis.clusterReplicasOf(Keys.of(task).definition()) == 1);
                addWhileReplicaFrozen(redis, replica, replica.uri(), task);
            }
        }
    }

    private static void addWhileReplicaFrozen(RedisConnector redis, LocalRedis replica, String replicaUri, String task)
            throws Exception {
        AddStore addStore = new AddStore(redis);
        addStore.publish(definition(task));
        long first = addStore.add(task, null, "[1]", System.currentTimeMillis()).id();
        assertTrue(first > 0, "an add with a healthy replica is answered");

        replica.pause();
        CompletableFuture<Long> added;
        try {
            added = CompletableFuture.supplyAsync(() -> addStore.add(task, null, "[2]", System.currentTimeMillis()).id());
            // a fence that does not hold the answer back fails here; 2.5 WAIT periods with the replica frozen
            Thread.sleep(ReplicationFence.DEFAULT_WAIT.toMillis() * 5 / 2);
            assertFalse(added.isDone(), "the add was answered while its only replica was frozen: "
                    + (added.isDone() ? added.get() : ""));
        } finally {
            replica.resume();
        }
        long second = added.get(30, TimeUnit.SECONDS);
        assertEquals(first + 1, second, "the re-sent add was applied once (the request id made the re-sends safe)");
        RedisClient client = RedisClient.create(replicaUri);
        try (StatefulRedisConnection<String, String> onReplica = client.connect()) {
            if (redis.isCluster()) {
                onReplica.sync().readOnly(); // a cluster replica answers reads of its master's slots only when asked so
            }
            assertEquals("[2]", onReplica.sync().hget(Keys.of(task).taskPrefix() + second, "args"),
                    "the replica holds the task whose id the caller got");
            assertEquals(Long.toString(second), onReplica.sync().get(Keys.of(task).sequence()),
                    "the replica's counter is past the id handed out");
        } finally {
            client.shutdown();
        }
    }

    private static void awaitReplicaLinked(LocalRedis replica) {
        RedisClient client = RedisClient.create(replica.uri());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            Wait.until("the replica to finish its first sync", Duration.ofSeconds(60),
                    () -> connection.sync().info("replication").contains("master_link_status:up"));
        } finally {
            client.shutdown();
        }
    }
}
