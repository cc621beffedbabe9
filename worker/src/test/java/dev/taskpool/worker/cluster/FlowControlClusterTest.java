package dev.taskpool.worker.cluster;

import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.FlowControlCases;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link FlowControlCases} on a real Redis Cluster (3 masters, 3 replicas): the unique keys, the
 * flow hash, the priority lists and the rate log of a kind share its hash tag, so each script
 * still touches one slot.
 */
class FlowControlClusterTest extends FlowControlCases {
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
}
