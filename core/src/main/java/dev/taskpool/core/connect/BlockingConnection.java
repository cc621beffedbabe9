package dev.taskpool.core.connect;

import io.lettuce.core.KeyValue;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;

/**
 * A connection that only waits in BLPOP, so that the wait stalls nothing else. Its block must stay
 * shorter than the command timeout: a command that times out on the client side may have popped an
 * element in Redis, which would then be lost.
 */
public final class BlockingConnection implements AutoCloseable {
    private final StatefulConnection<String, String> connection;
    private final RedisClusterCommands<String, String> commands;
    private final RedisTimeouts timeouts;

    BlockingConnection(StatefulConnection<String, String> connection, RedisClusterCommands<String, String> commands,
                       RedisTimeouts timeouts) {
        this.connection = connection;
        this.commands = commands;
        this.timeouts = timeouts;
    }

    /**
     * BLPOP on one key for at most {@code wait}, cut to half the command timeout so that Redis
     * always answers before the client gives up on the command; null when nothing arrived in time.
     */
    public KeyValue<String, String> blpop(Duration wait, String key) {
        if (wait.isNegative() || wait.isZero()) {
            throw new IllegalArgumentException("a blocking wait must be positive, not " + wait
                    + " (BLPOP 0 would block past the command timeout)");
        }
        return commands.blpop(timeouts.blockingPopSlice(wait).toMillis() / 1000.0, key);
    }

    @Override
    public void close() {
        connection.close();
    }
}
