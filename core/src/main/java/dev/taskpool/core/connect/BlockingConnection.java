package dev.taskpool.core.connect;

import io.lettuce.core.KeyValue;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A connection that only waits in BLPOP, so that the wait stalls nothing else. Its block must stay
 * shorter than the command timeout: a command that times out on the client side may have popped an
 * element in Redis, which would then be lost. It waits as Lettuce's synchronous API would (the
 * same exceptions, and an interrupt cancels the wait), through the async API: this connection
 * never builds the synchronous one (see {@link LazySyncRedisClient}).
 */
public final class BlockingConnection implements AutoCloseable {
    private final StatefulConnection<String, String> connection;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisTimeouts timeouts;

    BlockingConnection(StatefulConnection<String, String> connection, RedisClusterAsyncCommands<String, String> commands,
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
        return LettuceFutures.awaitOrCancel(commands.blpop(timeouts.blockingPopSlice(wait).toMillis() / 1000.0, key),
                timeouts.replyWait().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        connection.close();
    }
}
