package dev.taskpool.core.connect;

import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.RedisClusterPubSubAdapter;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an {@link EventChannels}' shard subscriptions (a Redis Cluster's shard channels, sharded
 * pub/sub, Redis 7.0+) on the master of each channel's slot, and remembers which node confirmed
 * each one.
 *
 * <p>SSUBSCRIBE is routed by Lettuce to the master of the channel's slot (its own connection to
 * that node), the node whose {@code PUBSUB SHARDNUMSUB} the scripts ask. Lettuce 7.7 makes a shard
 * subscription again when that node's connection comes back, but not when the slot moves to
 * another node (a failover, a migration: the old master ends the subscription with an SUNSUBSCRIBE
 * of its own, or is dead; Lettuce issue 3213); so this class does. A SUNSUBSCRIBE it did not ask
 * for is a subscription to make again once the topology was read again. Once a second it compares
 * the node each subscription was confirmed by with the slot's master in Lettuce's view of the
 * Cluster (refreshed every few seconds and on a redirection), and where they differ subscribes
 * again on the master and ends the subscription left on the old node if it still runs: a replica
 * accepts SSUBSCRIBE (and would deliver each message a second time), but the scripts count only
 * the master's subscribers.
 *
 * <p><b>Threads and locking</b> are those of {@link EventChannels}: a message is handed to its
 * listeners on Lettuce's I/O thread, without the lock (the registry and each interest's listeners
 * are safe to read there); what the connection reports besides messages (a confirmation, an
 * SUNSUBSCRIBE) is handed to the EventChannels' own thread (its {@link Healer}) and handled there,
 * never on the I/O thread, which must not wait for the lock: a thread holding it may be handing
 * Lettuce a command. The master check runs on that thread too. Everything here that reads or
 * changes the subscriptions' state, this class's record of the confirming nodes included, holds
 * the EventChannels' lock ({@code synchronized} on that instance: the {@code lock} given here), as
 * every SSUBSCRIBE is sent: Redis sees them in the order of that state. Only reading the topology
 * again after an SUNSUBSCRIBE runs without it.
 */
final class ShardFollower {
    private static final Logger log = LoggerFactory.getLogger(ShardFollower.class);
    /** How often each shard subscription's node is compared with its slot's master. */
    private static final Duration MASTER_CHECK = Duration.ofSeconds(1);

    /** What a ShardFollower asks of the {@link EventChannels} it serves. */
    interface Owner {
        /** The pub/sub connection; null until it is made. */
        StatefulRedisPubSubConnection<String, String> connection();

        /** Whether the EventChannels are closed. */
        boolean closed();

        /**
         * Sends the SSUBSCRIBE of {@code interest} unless Redis confirmed it, even if one is out (its
         * answer is then ignored). Called under the lock.
         */
        void sendNow(ChannelInterest interest);

        /** Ends a subscription Redis confirmed to {@code channel} when nobody wants it any more. Called on the healer thread. */
        void endIfUnwanted(String channel);
    }

    private final Owner owner;
    /** The EventChannels' thread: what the connection reports and the master checks run there. */
    private final Healer healer;
    /** The EventChannels' monitor: everything this class reads or changes of the subscriptions is done holding it. */
    private final Object lock;
    /** The wanted shard channels by name: the EventChannels' own registry. */
    private final Map<String, ChannelInterest> channels;
    private final Supplier<CompletableFuture<Void>> refreshTopology;
    private final String redisDescription;
    /**
     * Per wanted channel: the id of the node that confirmed its subscription, or that its
     * SSUBSCRIBE was sent to; no entry: none. Guarded by {@link #lock}.
     */
    private final Map<String, String> nodes = new HashMap<>();

    ShardFollower(Owner owner, Object lock, Healer healer, Map<String, ChannelInterest> channels,
                  Supplier<CompletableFuture<Void>> refreshTopology, String redisDescription) {
        this.owner = owner;
        this.lock = lock;
        this.healer = healer;
        this.channels = channels;
        this.refreshTopology = refreshTopology;
        this.redisDescription = redisDescription;
    }

    /** Hears the shard channels of a new connection: to be called before any SSUBSCRIBE goes on it. */
    void listenTo(StatefulRedisClusterPubSubConnection<String, String> connection) {
        connection.addListener(new ShardMessages());
    }

    /** Compares, once a second on the healer thread, each subscription's node with its slot's master. */
    void checkMastersEverySecond() {
        healer.every(MASTER_CHECK, this::followMasters);
    }

    /** Records the master an SSUBSCRIBE of {@code interest} is about to be sent to. Called under the lock. */
    void aimAt(ChannelInterest interest) {
        RedisClusterNode master = masterOf(interest.name);
        if (master == null) {
            nodes.remove(interest.name);
        } else {
            nodes.put(interest.name, master.getNodeId());
        }
    }

    /** Forgets the node of a channel nobody wants any more. Called under the lock. */
    void forget(String channel) {
        nodes.remove(channel);
    }

    /** A Cluster's shard channels: messages, confirmations and the node each came from. */
    private final class ShardMessages extends RedisClusterPubSubAdapter<String, String> {
        @Override
        public void smessage(RedisClusterNode node, String channel, String message) {
            ChannelInterest.deliver(channels.get(channel), channel, message);
        }

        @Override
        public void ssubscribed(RedisClusterNode node, String channel, long count) {
            healer.run(() -> {
                confirmedBy(channel, node);
                owner.endIfUnwanted(channel);
            });
        }

        @Override
        public void sunsubscribed(RedisClusterNode node, String channel, long count) {
            healer.run(() -> ended(channel, node));
        }
    }

    /** Which node confirmed a shard subscription (null when Lettuce's view does not know it: the node the send aimed at stays). */
    private void confirmedBy(String channel, RedisClusterNode node) {
        synchronized (lock) {
            if (channels.get(channel) != null && node != null) {
                nodes.put(channel, node.getNodeId());
            }
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
        synchronized (lock) {
            ChannelInterest interest = channels.get(channel);
            String confirming = nodes.get(channel);
            if (interest == null || interest.sending || !interest.confirmed.isDone() || owner.closed()
                    || (node != null && confirming != null && !node.getNodeId().equals(confirming))) {
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
        refreshed.whenComplete((ignored, error) -> healer.run(() -> healer.schedule(false)));
    }

    /**
     * Once a second: a shard subscription confirmed by a node that no longer serves its slot as
     * master (a failover after that node died, a migration: the node's SUNSUBSCRIBE may never come)
     * is made again, on the slot's master in Lettuce's view; so is one whose SSUBSCRIBE is still out
     * to such a node (dead: its answer would come only after the command timeout).
     */
    private void followMasters() {
        synchronized (lock) {
            if (owner.closed() || owner.connection() == null) {
                return;
            }
            for (ChannelInterest interest : channels.values()) {
                RedisClusterNode master = masterOf(interest.name);
                String confirming = nodes.get(interest.name);
                if (master == null || confirming == null || master.getNodeId().equals(confirming)
                        || !(interest.confirmed.isDone() || interest.sending)) {
                    continue;
                }
                log.info("the slot of {} is served by {} now, not by the node {} that confirmed its subscription"
                        + " (a failover or a migration); subscribing again", interest.name, master.getUri(), confirming);
                leaveBehind(interest.name, confirming);
                interest.unconfirm();
                owner.sendNow(interest);
            }
        }
    }

    /**
     * Ends the subscription to {@code channel} on node {@code nodeId} when that node still runs (a
     * replica now, which would go on delivering the shard's messages: each event twice); a node
     * the Cluster counts as failed is not in the view, and has nothing to end.
     */
    private void leaveBehind(String channel, String nodeId) {
        if (!(owner.connection() instanceof StatefulRedisClusterPubSubConnection<String, String> cluster)
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
        if (!(owner.connection() instanceof StatefulRedisClusterPubSubConnection<String, String> cluster)) {
            return null;
        }
        Partitions partitions = cluster.getPartitions();
        return partitions == null ? null : partitions.getMasterBySlot(SlotHash.getSlot(channel));
    }
}
