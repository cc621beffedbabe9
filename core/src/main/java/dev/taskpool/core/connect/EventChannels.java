package dev.taskpool.core.connect;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.RedisClusterPubSubAdapter;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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
 * Lettuce routes to the master of the channel's slot (its own connection to that node), the node
 * whose {@code PUBSUB SHARDNUMSUB} the scripts ask; there are no patterns ({@link #psubscribe}
 * refuses). Lettuce 7.7 makes a shard subscription again when that node's connection comes back,
 * but not when the slot moves to another node (a failover, a migration: the old master ends the
 * subscription with an SUNSUBSCRIBE of its own, or is dead; Lettuce issue 3213); so this class
 * does, on its own thread. A SUNSUBSCRIBE it did not ask for is a subscription to make again once
 * the topology was read again. Once a second it compares the node each subscription was confirmed
 * by with the slot's master in Lettuce's view of the Cluster (refreshed every few seconds and on a
 * redirection), and where they differ subscribes again on the master and ends the subscription
 * left on the old node if it still runs: a replica accepts SSUBSCRIBE (and would deliver each
 * message a second time), but the scripts count only the master's subscribers.
 */
public final class EventChannels implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventChannels.class);
    private static final Duration FIRST_RETRY = Duration.ofMillis(200);
    private static final Duration LONGEST_RETRY = Duration.ofSeconds(5);
    /** How often, in a Cluster, each shard subscription's node is compared with its slot's master. */
    private static final Duration MASTER_CHECK = Duration.ofSeconds(1);

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

    /** A channel or pattern some listeners want, and whether Redis confirmed it on the current connection. */
    private static final class Interest {
        final String name;
        final boolean pattern;
        final List<Listener> listeners = new CopyOnWriteArrayList<>();
        /** Completed when Redis confirms the subscription; replaced by a new one when the connection drops. */
        CompletableFuture<Void> confirmed = new CompletableFuture<>();
        /** Whether a (P)SUBSCRIBE of ours is out. */
        boolean sending;
        /** Counts the sends: the answer to an earlier send than the last one (a Cluster's master changed meanwhile) is ignored. */
        long sends;
        /** In a Cluster: the id of the node that confirmed the subscription, or that its SSUBSCRIBE was sent to; null: none. */
        String node;
        /**
         * Completed with Redis's error reply when it refused a (P)SUBSCRIBE of this interest (an ACL
         * rule missing): a definite answer, which the subscriber hears at once instead of a retry.
         * Replaced by a new one with each send, so an old refusal never speaks for a later send.
         */
        volatile CompletableFuture<Throwable> refused = new CompletableFuture<>();
        /** When (nanoTime) a refusal of this interest was last logged: a healing retry's refusal is logged once a minute. */
        long refusalLoggedAt;
        boolean refusalLogged;

        Interest(String name, boolean pattern) {
            this.name = name;
            this.pattern = pattern;
        }
    }

    private final Supplier<StatefulRedisPubSubConnection<String, String>> connector;
    /** A Cluster's shard channels (SSUBSCRIBE), not classic ones. */
    private final boolean sharded;
    private final Supplier<CompletableFuture<Void>> refreshTopology;
    private final Duration commandTimeout;
    private final String redisDescription;
    private final Map<String, Interest> channels = new ConcurrentHashMap<>();
    private final Map<String, Interest> patterns = new ConcurrentHashMap<>();
    /** Connects and subscribes again after a failure; one daemon thread, idle unless something failed. */
    private final ScheduledExecutorService healer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("taskpool-resubscribe").factory());
    /** Guards making the connection (which may block) apart from this class's state. */
    private final Object connecting = new Object();
    private volatile StatefulRedisPubSubConnection<String, String> connection;
    private boolean healScheduled;
    private Duration retryPause = FIRST_RETRY;
    private volatile boolean closed;

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
        this.refreshTopology = refreshTopology;
        this.commandTimeout = commandTimeout;
        this.redisDescription = redisDescription;
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
        return add(channels, new Interest(channel, false), listener);
    }

    /**
     * As {@link #subscribe}, for every channel matching {@code pattern}.
     *
     * @throws UnsupportedOperationException in a Cluster ({@link #sharded()}): sharded pub/sub has no patterns
     */
    public Subscription psubscribe(String pattern, Listener listener) {
        if (sharded) {
            throw new UnsupportedOperationException("a Redis Cluster's events are on shard channels, which have no patterns:"
                    + " subscribe to the channels instead of " + pattern);
        }
        return add(patterns, new Interest(pattern, true), listener);
    }

    private Subscription add(Map<String, Interest> registry, Interest fresh, Listener listener) {
        Listener own = (channel, message) -> listener.message(channel, message);   // an identity of its own: one removal per subscribe
        Interest interest;
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
        Interest subscribed = interest;
        return () -> remove(registry, subscribed, own);
    }

    private void awaitConfirmation(Interest interest, CompletableFuture<Void> confirmed, CompletableFuture<Throwable> refused) {
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

    private void remove(Map<String, Interest> registry, Interest interest, Listener own) {
        synchronized (this) {
            if (!interest.listeners.remove(own) || !interest.listeners.isEmpty() || !registry.remove(interest.name, interest)) {
                return;
            }
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
                scheduleHeal(true);
                return null;
            }
            if (sharded) {
                ((StatefulRedisClusterPubSubConnection<String, String>) made).addListener(new ShardMessages());
            } else {
                made.addListener(new Messages());
            }
            made.addListener(new Reconnects());
            connection = made;
            if (closed) {
                made.closeAsync();
                return null;
            }
            scheduleHeal(false);   // what was wanted while there was no connection is subscribed now
            if (sharded) {
                healer.scheduleWithFixedDelay(this::followMasters, MASTER_CHECK.toMillis(), MASTER_CHECK.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
            return made;
        }
    }

    /** Sends a (P)SUBSCRIBE for {@code interest} unless Redis confirmed it or one is out. Called under this class's lock. */
    private void send(Interest interest) {
        if (interest.sending) {
            return;
        }
        sendNow(interest);
    }

    /**
     * Sends a (P|S)SUBSCRIBE for {@code interest} unless Redis confirmed it; an answer to a send
     * still out is then ignored. Called under this class's lock.
     */
    private void sendNow(Interest interest) {
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
                RedisClusterNode master = masterOf(interest.name);
                interest.node = master == null ? null : master.getNodeId();
                reply = current.async().ssubscribe(interest.name).toCompletableFuture();
            } else {
                reply = (interest.pattern ? current.async().psubscribe(interest.name) : current.async().subscribe(interest.name))
                        .toCompletableFuture();
            }
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((ignored, error) -> onHealer(() -> {
            synchronized (this) {
                if (send != interest.sends) {
                    return;   // a later send speaks for the interest
                }
                interest.sending = false;
                if (error == null) {
                    target.complete(null);
                    retryPause = FIRST_RETRY;
                    return;
                }
            }
            if (error instanceof RedisCommandExecutionException) {
                refusal.complete(error);   // Redis answered no; healing tries again while someone listens
                logRefusal(interest, error);
            } else {
                log.debug("subscribing to {} failed: {}", interest.name, error.getMessage());
            }
            scheduleHeal(true);
        }));
    }

    /**
     * A refused (P)SUBSCRIBE (an ACL rule taken away, say) is said at warn level, once a minute per
     * channel: when healing meets it nobody else hears of it, and the subscription stays silent.
     */
    private void logRefusal(Interest interest, Throwable error) {
        long now = System.nanoTime();
        synchronized (this) {
            if (interest.refusalLogged && now - interest.refusalLoggedAt < TimeUnit.MINUTES.toNanos(1)) {
                return;
            }
            interest.refusalLogged = true;
            interest.refusalLoggedAt = now;
        }
        log.warn("Redis at {} refused the subscription to {} ({}); no event of it is delivered, and it is asked again"
                + " while someone listens", redisDescription, interest.name, error.getMessage());
    }

    /**
     * Runs {@link #heal}: after a failure, once after the retry pause (which grows while retries
     * fail) unless one is scheduled; else (a new connection) at once.
     */
    private void scheduleHeal(boolean afterFailure) {
        Duration pause = Duration.ZERO;
        synchronized (this) {
            if (closed || (afterFailure && healScheduled)) {
                return;
            }
            healScheduled = true;
            if (afterFailure) {
                pause = retryPause;
                retryPause = retryPause.multipliedBy(2).compareTo(LONGEST_RETRY) > 0 ? LONGEST_RETRY : retryPause.multipliedBy(2);
            }
        }
        try {
            healer.schedule(this::heal, pause.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            synchronized (this) {
                healScheduled = false;   // closing
            }
        }
    }

    /** Connects if needed, then subscribes every wanted channel and pattern Redis has not confirmed. */
    private void heal() {
        synchronized (this) {
            healScheduled = false;
        }
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
            deliver(channels.get(channel), channel, message);
        }

        @Override
        public void message(String pattern, String channel, String message) {
            deliver(patterns.get(pattern), channel, message);
        }

        @Override
        public void subscribed(String channel, long count) {
            onHealer(() -> endIfUnwanted(channels, channel, false));
        }

        @Override
        public void psubscribed(String pattern, long count) {
            onHealer(() -> endIfUnwanted(patterns, pattern, true));
        }
    }

    /** A Cluster's shard channels: messages, confirmations and the node each came from. */
    private final class ShardMessages extends RedisClusterPubSubAdapter<String, String> {
        @Override
        public void smessage(RedisClusterNode node, String channel, String message) {
            deliver(channels.get(channel), channel, message);
        }

        @Override
        public void ssubscribed(RedisClusterNode node, String channel, long count) {
            onHealer(() -> {
                confirmedBy(channel, node);
                endIfUnwanted(channels, channel, false);
            });
        }

        @Override
        public void sunsubscribed(RedisClusterNode node, String channel, long count) {
            onHealer(() -> ended(channel, node));
        }
    }

    /** Which node confirmed a shard subscription (null when Lettuce's view does not know it: the node the send aimed at stays). */
    private synchronized void confirmedBy(String channel, RedisClusterNode node) {
        Interest interest = channels.get(channel);
        if (interest != null && node != null) {
            interest.node = node.getNodeId();
        }
    }

    /**
     * Redis ended a shard subscription: ours (the last listener left, and the interest is gone, or
     * one left behind on a node that no longer serves it), or Redis' own doing, when the node
     * holding it stopped serving the channel's slot (a failover made it a replica, the slot
     * migrated). A wanted one is made again once the topology was read again: a replica accepts an
     * SSUBSCRIBE too, so one sent to the old master by a stale view would stay there, where the
     * scripts do not count it ({@link #followMasters} would move it, but later).
     */
    private void ended(String channel, RedisClusterNode node) {
        synchronized (this) {
            Interest interest = channels.get(channel);
            if (interest == null || interest.sending || !interest.confirmed.isDone() || closed
                    || (node != null && interest.node != null && !node.getNodeId().equals(interest.node))) {
                return;
            }
            interest.confirmed = new CompletableFuture<>();
        }
        log.info("Redis at {} ended the subscription to {} (its slot moved: a failover or a migration); subscribing again",
                redisDescription, channel);
        CompletableFuture<Void> refreshed;
        try {
            refreshed = refreshTopology.get();
        } catch (RuntimeException e) {
            refreshed = CompletableFuture.failedFuture(e);
        }
        refreshed.whenComplete((ignored, error) -> onHealer(() -> scheduleHeal(false)));
    }

    /**
     * In a Cluster, once a second: a shard subscription confirmed by a node that no longer serves
     * its slot as master (a failover after that node died, a migration: the node's SUNSUBSCRIBE may
     * never come) is made again, on the slot's master in Lettuce's view; so is one whose SSUBSCRIBE
     * is still out to such a node (dead: its answer would come only after the command timeout).
     */
    private void followMasters() {
        synchronized (this) {
            if (closed || connection == null) {
                return;
            }
            for (Interest interest : channels.values()) {
                RedisClusterNode master = masterOf(interest.name);
                if (master == null || interest.node == null || master.getNodeId().equals(interest.node)
                        || !(interest.confirmed.isDone() || interest.sending)) {
                    continue;
                }
                log.info("the slot of {} is served by {} now, not by the node {} that confirmed its subscription"
                        + " (a failover or a migration); subscribing again", interest.name, master.getUri(), interest.node);
                leaveBehind(interest.name, interest.node);
                if (interest.confirmed.isDone()) {
                    interest.confirmed = new CompletableFuture<>();
                }
                sendNow(interest);
            }
        }
    }

    /**
     * Ends the subscription to {@code channel} on node {@code nodeId} when that node still runs (a
     * replica now, which would go on delivering the shard's messages: each event twice); a node
     * the Cluster counts as failed is not in the view, and has nothing to end.
     */
    private void leaveBehind(String channel, String nodeId) {
        if (!(connection instanceof StatefulRedisClusterPubSubConnection<String, String> cluster)
                || cluster.getPartitions() == null) {
            return;
        }
        RedisClusterNode old = cluster.getPartitions().getPartitionByNodeId(nodeId);
        if (old == null || old.getUri() == null) {
            return;
        }
        try {
            cluster.getConnectionAsync(old.getUri().getHost(), old.getUri().getPort())
                    .thenAccept(node -> node.async().sunsubscribe(channel))
                    .exceptionally(error -> {
                        log.debug("ending the subscription to {} on {} failed: {}", channel, old.getUri(), error.getMessage());
                        return null;
                    });
        } catch (RuntimeException e) {
            log.debug("ending the subscription to {} on {} failed: {}", channel, old.getUri(), e.getMessage());
        }
    }

    /** The master of {@code channel}'s slot in the Cluster connection's view; null when it knows none. */
    private RedisClusterNode masterOf(String channel) {
        if (!(connection instanceof StatefulRedisClusterPubSubConnection<String, String> cluster)) {
            return null;
        }
        Partitions partitions = cluster.getPartitions();
        return partitions == null ? null : partitions.getMasterBySlot(SlotHash.getSlot(channel));
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
    private void endIfUnwanted(Map<String, Interest> registry, String name, boolean pattern) {
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
            onHealer(EventChannels.this::unconfirmAll);
        }

        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> ignored, SocketAddress address) {
            onHealer(() -> scheduleHeal(false));
        }
    }

    private synchronized void unconfirmAll() {
        for (Map<String, Interest> registry : List.of(channels, patterns)) {
            for (Interest interest : registry.values()) {
                if (interest.confirmed.isDone()) {
                    interest.confirmed = new CompletableFuture<>();
                }
            }
        }
    }

    /**
     * Runs {@code step} on this class's thread, in the order given: what Lettuce's I/O thread reports
     * is handled there, so that thread never waits for this class's lock (a thread holding it may be
     * handing Lettuce a command).
     */
    private void onHealer(Runnable step) {
        try {
            healer.execute(step);
        } catch (RuntimeException e) {
            log.debug("the event channels are closed: {}", e.getMessage());
        }
    }

    private static void deliver(Interest interest, String channel, String message) {
        if (interest == null) {
            return;
        }
        for (Listener listener : interest.listeners) {
            try {
                listener.message(channel, message);
            } catch (RuntimeException e) {
                log.warn("a listener of {} failed on a message: {}", interest.name, e.toString());
            }
        }
    }

    /** Closes the connection and stops retrying; no listener hears anything after this. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (Map<String, Interest> registry : List.of(channels, patterns)) {
                registry.clear();
            }
        }
        healer.shutdownNow();
        synchronized (connecting) {
            if (connection != null) {
                connection.close();
            }
        }
    }
}
