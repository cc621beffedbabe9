package dev.taskpool.cli.fault;

import dev.taskpool.support.LocalRedis;

/** {@link FlowControlProcessCases} on a standalone redis-server of the class's own. */
class FlowControlProcessesTest extends FlowControlProcessCases {
    private LocalRedis redis;

    @Override
    String startRedis() {
        redis = LocalRedis.start();
        return redis.uri();
    }

    @Override
    void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }
}
