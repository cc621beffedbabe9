package dev.taskpool.core.connect;

import io.lettuce.core.RedisChannelWriter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.protocol.PushHandler;
import io.lettuce.core.pubsub.PubSubEndpoint;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnectionImpl;
import io.lettuce.core.pubsub.api.sync.RedisPubSubCommands;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * A Lettuce client whose connections build their synchronous API on its first use instead of in
 * their constructor. Lettuce builds it for every connection it opens, a proxy whose method table
 * it fills by looking up each of several hundred methods by reflection: at a worker's start that
 * was about a third of the main thread's CPU (the JFR profile in BENCHMARKS.md, issue 22), for
 * connections that never call {@code sync()} (the worker's blocking and subscribing ones, most of
 * the client's). A connection that does call it pays the same cost then, once.
 */
final class LazySyncRedisClient extends RedisClient {
    /** @param resources shared resources, or null for the client's own (as {@link RedisClient#create()}) */
    LazySyncRedisClient(ClientResources resources) {
        super(resources, new RedisURI());
    }

    @Override
    protected <K, V> StatefulRedisConnectionImpl<K, V> newStatefulRedisConnection(RedisChannelWriter channelWriter,
            PushHandler pushHandler, RedisCodec<K, V> codec, Duration timeout) {
        return new Connection<>(channelWriter, pushHandler, codec, timeout, this);
    }

    @Override
    protected <K, V> StatefulRedisPubSubConnectionImpl<K, V> newStatefulRedisPubSubConnection(PubSubEndpoint<K, V> endpoint,
            RedisChannelWriter channelWriter, RedisCodec<K, V> codec, Duration timeout) {
        return new PubSubConnection<>(endpoint, channelWriter, codec, timeout);
    }

    private static final class Connection<K, V> extends StatefulRedisConnectionImpl<K, V> {
        private final BuiltOnce<RedisCommands<K, V>> lazySync = new BuiltOnce<>();

        Connection(RedisChannelWriter writer, PushHandler pushHandler, RedisCodec<K, V> codec, Duration timeout,
                   RedisClient client) {
            super(writer, pushHandler, codec, timeout, client.getOptions().getJsonParser());
        }

        @Override
        protected RedisCommands<K, V> newRedisSyncCommandsImpl() {
            return null;   // (called by the constructor: built by sync() when first asked for)
        }

        @Override
        public RedisCommands<K, V> sync() {
            return lazySync.get(super::newRedisSyncCommandsImpl);
        }
    }

    private static final class PubSubConnection<K, V> extends StatefulRedisPubSubConnectionImpl<K, V> {
        private final BuiltOnce<RedisPubSubCommands<K, V>> lazySync = new BuiltOnce<>();

        PubSubConnection(PubSubEndpoint<K, V> endpoint, RedisChannelWriter writer, RedisCodec<K, V> codec, Duration timeout) {
            super(endpoint, writer, codec, timeout);
        }

        @Override
        protected RedisPubSubCommands<K, V> newRedisSyncCommandsImpl() {
            return null;   // (as above)
        }

        @Override
        public RedisPubSubCommands<K, V> sync() {
            return lazySync.get(super::newRedisSyncCommandsImpl);
        }
    }

    /** A value built by the first caller that asks for it, and only once. */
    private static final class BuiltOnce<T> {
        private volatile T value;

        T get(Supplier<T> build) {
            T built = value;
            if (built == null) {
                synchronized (this) {
                    built = value;
                    if (built == null) {
                        built = build.get();
                        value = built;
                    }
                }
            }
            return built;
        }
    }
}
