package dev.taskpool.core.redis;

import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;

/**
 * Owns the Lettuce client of one runtime and hands out its connections: one shared connection
 * for commands and scripts (Lettuce pipelines concurrent commands on it), and separate ones for
 * blocking pops and for pub/sub, which must not share a connection with anything else.
 */
public final class RedisConnector implements AutoCloseable {
    public static final String DEFAULT_URI = "redis://127.0.0.1:6379";
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(10);

    private final RedisClient client;
    private final RedisURI uri;
    private final StatefulRedisConnection<String, String> connection;
    private final Duration commandTimeout;

    private RedisConnector(RedisClient client, RedisURI uri, StatefulRedisConnection<String, String> connection,
                           Duration commandTimeout) {
        this.client = client;
        this.uri = uri;
        this.connection = connection;
        this.commandTimeout = commandTimeout;
    }

    public static RedisConnector connect(String uri) {
        return connect(uri, DEFAULT_COMMAND_TIMEOUT);
    }

    public static RedisConnector connect(String uriText, Duration commandTimeout) {
        return connect(uriText, commandTimeout, RedisTls.fromEnvironment());
    }

    /** As {@link #connect(String, Duration)}, with the CA and client certificate of a {@code rediss://} URL. */
    public static RedisConnector connect(String uriText, Duration commandTimeout, RedisTls tls) {
        RedisURI uri;
        try {
            uri = RedisURI.create(uriText);
        } catch (IllegalArgumentException e) {
            throw new TaskpoolException("invalid Redis URI '" + uriText + "': " + e.getMessage()
                    + " (expected e.g. redis://127.0.0.1:6379 or rediss://user:password@host:6380/0)", e);
        }
        uri.setTimeout(commandTimeout);
        SslOptions sslOptions = tls.sslOptions(uri); // checks the TLS files before the client starts its threads
        RedisClient client = RedisClient.create();
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(5)).keepAlive(true).build())
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .sslOptions(sslOptions)
                .build());
        try {
            return new RedisConnector(client, uri, client.connect(StringCodec.UTF8, uri), commandTimeout);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            throw new TaskpoolException("cannot connect to Redis at " + describe(uri) + ": " + rootMessage(e)
                    + RedisTls.mismatchHint(uri, e), e);
        }
    }

    /** How long a command may wait for Redis (also while Redis is unreachable) before it fails. */
    public Duration commandTimeout() {
        return commandTimeout;
    }

    /** The shared connection for commands and scripts. */
    public StatefulRedisConnection<String, String> connection() {
        return connection;
    }

    public ScriptRunner scripts() {
        return new ScriptRunner(connection.async());
    }

    /** A connection of its own for a blocking command (BLPOP), which would stall a shared one. */
    public StatefulRedisConnection<String, String> newBlockingConnection() {
        return client.connect(StringCodec.UTF8, uri);
    }

    public StatefulRedisPubSubConnection<String, String> newPubSubConnection() {
        return client.connectPubSub(StringCodec.UTF8, uri);
    }

    /** The URI without its password, for messages and logs. */
    public String describe() {
        return describe(uri);
    }

    static String describe(RedisURI uri) {
        return (uri.isSsl() ? "rediss://" : "redis://") + uri.getHost() + ":" + uri.getPort()
                + (uri.getDatabase() == 0 ? "" : "/" + uri.getDatabase());
    }

    static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String own = error.getMessage();
        String deepest = root.getMessage();
        return root == error || deepest == null ? String.valueOf(own) : own + " (" + deepest + ")";
    }

    @Override
    public void close() {
        try {
            connection.close();
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }
}
