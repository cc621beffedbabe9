package dev.taskpool.cli.fault;

import dev.taskpool.support.LocalRedisCluster;
import java.time.Duration;

/**
 * {@link FlowControlProcessCases} on a real Redis Cluster (3 masters, 3 replicas): the worker
 * processes and the client are given every node as a seed. Here rather than beside the worker
 * module's Cluster tests because a worker process is the cli module's {@code taskpool worker}.
 */
class FlowControlProcessesClusterTest extends FlowControlProcessCases {
    private LocalRedisCluster cluster;

    @Override
    String startRedis() {
        cluster = LocalRedisCluster.start(3, Duration.ofSeconds(5));
        return cluster.seedsUri();
    }

    @Override
    void stopRedis() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
