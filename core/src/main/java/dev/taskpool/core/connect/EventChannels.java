package dev.taskpool.core.connect;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way taskpool listens to Redis pub/sub: one connection shared by every subscription of its
 * owner (a client, a worker's control listener, the dashboard, a watch). Redis is subscribed to a
 * channel (or pattern) while at least one listener wants it. A subscribe waits until Redis has
 * confirmed it (at most a command timeout), so a caller that then reads the task hash cannot miss
 * a later event.
 *
 * <p>Subscriptions heal themselves: when the connection cannot be made, a SUBSCRIBE is not
 * confirmed (Redis away, a partition), or the connection comes back after a cut, this class's own
 * thread connects and subscribes again, with growing pauses, until Redis confirms each wanted
 * channel or its last listener leaves. Events published meanwhile are lost (pub/sub keeps none).
 *
 * <p>A {@link Listener} is called on the connection's I/O thread, in the order Redis sent the
 * messages: it must return at once and never wait (on Redis least of all: that thread reads the
 * replies), so a listener parses the message and hands it to a queue or a thread of its own. What
 * the connection reports besides messages (confirmations, a cut, a reconnect) is handled on this
 * class's own thread, never on the I/O thread.
 *
 * <p><b>In a Redis Cluster</b> the channels are shard channels (sharded pub/sub, Redis 7.0+: what
 * the scripts SPUBLISH there, see {@code EventMode}): {@link #subscribe} sends SSUBSCRIBE, which
 * Lettuce routes to the master of the channel's slot; there are no patterns ({@link #psubscribe}
 * refuses). Lettuce does not follow a slot that moves to another node (a failover, a migration):
 * {@code ShardFollower} makes such a subscription again on the slot's new master, on this class's
 * own thread and under its lock.
 */
public final class EventChannels implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventChannels.class);

    /** Hears the messages of a subscription; runs on the connection's I/O thread (see the class comment). */
    @FunctionalInterface
    public interface Listener {
        void message(String channel, String message);
    }

    /** Ends one listener's subscription; Redis is unsubscribed when the last listener of a channel leaves. */
    @FunctionalInterface
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private final Supplier<StatefulRedisPubSubConnection<String, String>> connector;
    /** A Cluster's shard channels (SSUBSCRIBE), not classic ones. */
    private final boolean sharded;
    private final Duration commandTimeout;
    private final String redisDescription;
    private final Map<String, ChannelInterest> channels = new ConcurrentHashMap<>();
    private final Map<String, ChannelInterest> patterns = new ConcurrentHashMap<>();
    /** In a Cluster, keeps each shard subscription on its slot's master (idle outside one). */
    private final ShardFollower shards;
    /** Guards making the connection (which may block) apart from this class's state. */
    private final Object connecting = new Object();
    private volatile StatefulRedisPubSubConnection<String, String> connection;
    private volatile boolean closed;
    /** Connects and subscribes again after a failure, and handles what the connection reports besides messages. */
    private final Healer healer = new Healer(this, () -> closed, this::heal);

    /** Subscriptions over {@code redis}'s pub/sub; the connection is made with the first subscription. */
    public EventChannels(RedisConnector redis) {
        this(redis::newPubSubConnection, redis.isCluster(), redis::refreshTopology, redis.commandTimeout(), redis.describe());
    }

    /**
     * @param connector makes the pub/sub connection (it throws when Redis cannot be reached); a
     *                  {@link StatefulRedisClusterPubSubConnection} when {@code sharded}
     * @param sharded   a Cluster: shard channels
     * @param refreshTopology in a Cluster, reads its topology again (see {@link RedisConnector#refreshTopology()})
     */
    EventChannels(Supplier<StatefulRedisPubSubConnection<String, String>> connector, boolean sharded,
                  Supplier<CompletableFuture<Void>> refreshTopology, Duration commandTimeout, String redisDescription) {
        this.connector = connector;
        this.sharded = sharded;
        this.commandTimeout = commandTimeout;
        this.redisDescription = redisDescription;
        this.shards = new ShardFollower(new ShardOwner(), this, healer, channels, refreshTopology, redisDescription);
    }

    /**
     * Whether these are a Cluster's shard channels: a subscriber then follows a kind through its
     * channels, there being no patterns (see the class comment).
     */
    public boolean sharded() {
        return sharded;
    }

    /**
     * Delivers the messages of {@code channel} to {@code listener}. Returns once Redis confirmed the
     * subscription, or after a command timeout (logged; the subscription is made when Redis answers);
     * throws Redis's error reply when it refused the subscription (an ACL rule missing).
     */
    public Subscription subscribe(String channel, Listener listener) {
        return add(channels, new ChannelInterest(channel, false), listener);
    }

    /**
     * As {@link #subscribe}, for every channel matching {@code pattern}.
     *
     * @throws IllegalStateException in a Cluster ({@link #sharded()}): sharded pub/sub has no patterns
     */
    public Subscription psubscribe(String pattern, Listener listener) {
        if (sharded) {
            throw new IllegalStateException("a Redis Cluster's events are on shard channels, which have no patterns:"
                    + " subscribe to the channels instead of " + pattern);
        }
        return add(patterns, new ChannelInterest(pattern, true), listener);
    }

    private Subscription add(Map<String, ChannelInterest> registry, ChannelInterest fresh, Listener listener) {
        Listener own = (channel, message) -> listener.message(channel, message);   // an identity of its own: one removal per subscribe
        ChannelInterest interest;
        CompletableFuture<Void> confirmed;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the event channels are closed: no subscription to " + fresh.name);
            }
            interest = registry.computeIfAbsent(fresh.name, name -> fresh);
            interest.listeners.add(own);
            confirmed = interest.confirmed;
        }
        if (!confirmed.isDone() && connection() != null) {
            CompletableFuture<Throwable> refused;
            synchronized (this) {
                send(interest);
                refused = interest.refused;   // the answer to this send: a later send (healing) replaces it
            }
            awaitConfirmation(interest, confirmed, refused);
            Throwable refusal = refused.getNow(null);
            if (!confirmed.isDone() && refusal != null) {
                remove(registry, interest, own);
                throw refusal instanceof RuntimeException runtime ? runtime : new IllegalStateException(refusal);
            }
        }
        ChannelInterest subscribed = interest;
        return () -> remove(registry, subscribed, own);
    }

    private void awaitConfirmation(ChannelInterest interest, CompletableFuture<Void> confirmed, CompletableFuture<Throwable> refused) {
        try {
            CompletableFuture.anyOf(confirmed, refused).get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!confirmed.isDone() && refused.isDone()) {
                return;   // the caller throws Redis's refusal
            }
        } catch (TimeoutException | ExecutionException e) {
            log.warn("Redis at {} did not confirm the subscription to {} within {} ms; it is made as soon as Redis"
                    + " answers (events published until then are not delivered)", redisDescription, interest.name,
                    commandTimeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void remove(Map<String, ChannelInterest> registry, ChannelInterest interest, Listener own) {
        synchronized (this) {
            if (!interest.listeners.remove(own) || !interest.listeners.isEmpty() || !registry.remove(interest.name, interest)) {
                return;
            }
            shards.forget(interest.name);
            StatefulRedisPubSubConnection<String, String> current = connection;
            if (current == null || closed) {
                return;
            }
            try {
                // Sent under this class's lock, as every (P)SUBSCRIBE is: Redis sees them in the order of this class's state.
                unsubscribe(current, interest.name, interest.pattern);
            } catch (RuntimeException e) {
                log.debug("unsubscribe from {} failed: {}", interest.name, e.getMessage());
            }
        }
    }

    /** The connection, made now when there is none yet; null (and a retry scheduled) when Redis cannot be reached. */
    private StatefulRedisPubSubConnection<String, String> connection() {
        StatefulRedisPubSubConnection<String, String> current = connection;
        if (current != null || closed) {
            return current;
        }
        synchronized (connecting) {
            if (connection != null || closed) {
                return connection;
            }
            StatefulRedisPubSubConnection<String, String> made;
            try {
                made = connector.get();
            } catch (RuntimeException e) {
                log.warn("cannot connect to Redis at {} for events ({}); trying again until it answers", redisDescription,
                        e.getMessage());
                healer.schedule(true);
                return null;
            }
            if (sharded) {
                shards.listenTo((StatefulRedisClusterPubSubConnection<String, String>) made);
            } else {
                made.addListener(new Messages());
            }
            made.addListener(new Reconnects());
            connection = made;
            if (closed) {
                made.closeAsync();
                return null;
            }
            healer.schedule(false);   // what was wanted while there was no connection is subscribed now
            if (sharded) {
                shards.checkMastersEverySecond();
            }
            return made;
        }
    }

    /** Sends a (P)SUBSCRIBE for {@code interest} unless Redis confirmed it or one is out. Called under this class's lock. */
    private void send(ChannelInterest interest) {
        if (interest.sending) {
            return;
        }
        sendNow(interest);
    }

    /**
     * Sends a (P|S)SUBSCRIBE for {@code interest} unless Redis confirmed it; an answer to a send
     * still out is then ignored. Called under this class's lock.
     */
    private void sendNow(ChannelInterest interest) {
        StatefulRedisPubSubConnection<String, String> current = connection;
        if (current == null || closed || interest.confirmed.isDone()) {
            return;
        }
        CompletableFuture<Void> target = interest.confirmed;
        if (interest.refused.isDone()) {
            interest.refused = new CompletableFuture<>();
        }
        CompletableFuture<Throwable> refusal = interest.refused;
        interest.sending = true;
        long send = ++interest.sends;
        CompletableFuture<Void> reply;
        try {
            if (sharded) {
                shards.aimAt(interest);
                reply = current.async().ssubscribe(interest.name).toCompletableFuture();
            } else {
                reply = (interest.pattern ? current.async().psubscribe(interest.name) : current.async().subscribe(interest.name))
                        .toCompletableFuture();
            }
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((ignored, error) -> healer.run(() -> {
            synchronized (this) {
                if (send != interest.sends) {
                    return;   // a later send speaks for the interest
                }
                interest.sending = false;
                if (error == null) {
                    target.complete(null);
                    healer.resetPause();
                    return;
                }
            }
            if (error instanceof RedisCommandExecutionException) {
                refusal.complete(error);   // Redis answered no; healing tries again while someone listens
                interest.logRefusal(error, redisDescription, this);
            } else {
                log.debug("subscribing to {} failed: {}", interest.name, error.getMessage());
            }
            healer.schedule(true);
        }));
    }

    /** Connects if needed, then subscribes every wanted channel and pattern Redis has not confirmed. */
    private void heal() {
        if (closed || connection() == null) {
            return;
        }
        synchronized (this) {
            channels.values().forEach(this::send);
            patterns.values().forEach(this::send);
        }
    }

    /** Hands each message to the listeners that want it, on Lettuce's I/O thread. */
    private final class Messages extends RedisPubSubAdapter<String, String> {
        @Override
        public void message(String channel, String message) {
            ChannelInterest.deliver(channels.get(channel), channel, message);
        }

        @Override
        public void message(String pattern, String channel, String message) {
            ChannelInterest.deliver(patterns.get(pattern), channel, message);
        }

        @Override
        public void subscribed(String channel, long count) {
            healer.run(() -> endIfUnwanted(channels, channel, false));
        }

        @Override
        public void psubscribed(String pattern, long count) {
            healer.run(() -> endIfUnwanted(patterns, pattern, true));
        }
    }

    private void unsubscribe(StatefulRedisPubSubConnection<String, String> current, String name, boolean pattern) {
        if (sharded) {
            current.async().sunsubscribe(name);
        } else if (pattern) {
            current.async().punsubscribe(name);
        } else {
            current.async().unsubscribe(name);
        }
    }

    /**
     * Redis confirmed a subscription: ours, or one Lettuce made again by itself after a reconnect.
     * One nobody wants any more (its UNSUBSCRIBE was lost with a connection) is ended. A wanted one
     * counts as confirmed only by the reply to our own (P)SUBSCRIBE: this confirmation may be of
     * an earlier subscription to the same name, since ended.
     */
    private void endIfUnwanted(Map<String, ChannelInterest> registry, String name, boolean pattern) {
        synchronized (this) {
            StatefulRedisPubSubConnection<String, String> current = connection;
            if (registry.containsKey(name) || current == null || closed) {
                return;
            }
            // Under this class's lock, as every (P)SUBSCRIBE is: a later subscription to the name goes after this.
            unsubscribe(current, name, pattern);
        }
    }

    /** A dropped connection unconfirms every subscription; a new one gets them all again (see {@link #heal}). */
    private final class Reconnects implements RedisConnectionStateListener {
        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> ignored) {
            healer.run(EventChannels.this::unconfirmAll);
        }

        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> ignored, SocketAddress address) {
            healer.run(() -> healer.schedule(false));
        }
    }

    private synchronized void unconfirmAll() {
        for (Map<String, ChannelInterest> registry : List.of(channels, patterns)) {
            registry.values().forEach(ChannelInterest::unconfirm);
        }
    }

    /** What the shard follower asks of these channels: their connection, their sends. */
    private final class ShardOwner implements ShardFollower.Owner {
        @Override
        public StatefulRedisPubSubConnection<String, String> connection() {
            return connection;
        }

        @Override
        public boolean closed() {
            return closed;
        }

        @Override
        public void sendNow(ChannelInterest interest) {
            EventChannels.this.sendNow(interest);
        }

        @Override
        public void endIfUnwanted(String channel) {
            EventChannels.this.endIfUnwanted(channels, channel, false);
        }
    }

    /** Closes the connection and stops retrying; no listener hears anything after this. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (Map<String, ChannelInterest> registry : List.of(channels, patterns)) {
                registry.clear();
            }
        }
        healer.shutdown();
        synchronized (connecting) {
            if (connection != null) {
                connection.close();
            }
        }
    }
}
