package dev.taskpool.core.connect;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.redis.RedisTls;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one place that decides, from the Redis URL, what taskpool connects to, and the only class
 * that names a Lettuce client: a standalone Redis ({@code redis://host:port}, also through
 * Sentinel with {@code redis-sentinel://...#master}), or a Redis Cluster, found either because the
 * one node in the URL says it is in cluster mode or because the URL lists several seed nodes
 * ({@code redis://h1:p1,h2:p2}). Everything else sees the commands that both have in common
 * ({@link RedisClusterAsyncCommands}), which in a Cluster are routed to the master of each key's
 * slot. It hands out one shared connection for commands and scripts (Lettuce pipelines concurrent
 * commands on it), and separate ones for blocking pops and for pub/sub, which must not share a
 * connection with anything else.
 */
public final class RedisConnector implements AutoCloseable {
    public static final String DEFAULT_URI = "redis://127.0.0.1:6379";
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(10);
    private final AbstractRedisClient client;
    private final String description;
    private final StatefulConnection<String, String> connection;
    private final RedisClusterAsyncCommands<String, String> async;
    private final Supplier<StatefulConnection<String, String>> newConnection;
    private final Function<StatefulConnection<String, String>, RedisClusterCommands<String, String>> syncOf;
    private final Supplier<StatefulRedisPubSubConnection<String, String>> newPubSub;
    private final boolean cluster;
    private final Duration commandTimeout;
    /** What {@link #shared} made, in the order made. */
    private final Map<Class<?>, AutoCloseable> shared = new LinkedHashMap<>();
    private final RedisTimeouts timeouts;
    /** Resources made for a latency recorder (null: the client's own); the client does not shut them down. */
    private ClientResources ownResources;
    /** The ACL user the URL logs in as ("default" without one), named when Redis refuses it something. */
    private String user = "default";

    private RedisConnector(AbstractRedisClient client, String description, StatefulConnection<String, String> connection,
                           RedisClusterAsyncCommands<String, String> async,
                           Supplier<StatefulConnection<String, String>> newConnection,
                           Function<StatefulConnection<String, String>, RedisClusterCommands<String, String>> syncOf,
                           Supplier<StatefulRedisPubSubConnection<String, String>> newPubSub, boolean cluster,
                           Duration commandTimeout) {
        this.client = client;
        this.description = description;
        this.connection = connection;
        this.async = async;
        this.newConnection = newConnection;
        this.syncOf = syncOf;
        this.newPubSub = newPubSub;
        this.cluster = cluster;
        this.commandTimeout = commandTimeout;
        this.timeouts = new RedisTimeouts(commandTimeout);
    }

    public static RedisConnector connect(String uri) {
        return connect(uri, DEFAULT_COMMAND_TIMEOUT);
    }

    public static RedisConnector connect(String uriText, Duration commandTimeout) {
        return connect(uriText, commandTimeout, RedisTls.fromEnvironment());
    }

    /** As {@link #connect(String, Duration)}, with the CA and client certificate of a {@code rediss://} URL. */
    public static RedisConnector connect(String uriText, Duration commandTimeout, RedisTls tls) {
        return connect(uriText, commandTimeout, tls, null);
    }

    /**
     * As {@link #connect(String, Duration, RedisTls)}, handing the latency of every command to
     * {@code latencies} (e.g. the metrics' timers; null: none recorded).
     */
    public static RedisConnector connect(String uriText, Duration commandTimeout, RedisTls tls,
                                         CommandLatencies latencies) {
        try {
            return open(LettuceSettings.of(uriText, commandTimeout, tls), commandTimeout, latencies);
        } catch (LinkageError e) {
            throw NettyVersions.explain(e);   // e.g. Netty 4.1 and 4.2 modules side by side
        }
    }

    private static RedisConnector open(LettuceSettings settings, Duration commandTimeout, CommandLatencies latencies) {
        ClientResources resources = latencies == null ? null
                : ClientResources.builder().commandLatencyRecorder(LettuceLatencies.of(latencies)).build();
        try {
            RedisConnector connector = settings.nodes().size() > 1
                    ? connectCluster(settings, commandTimeout, resources)
                    : connectStandalone(settings, commandTimeout, resources);
            connector.ownResources = resources;
            connector.user = LettuceSettings.userOf(settings.nodes().getFirst());
            return connector;
        } catch (RuntimeException e) {
            if (resources != null) {
                resources.shutdown();
            }
            throw e;
        }
    }

    private static RedisConnector connectStandalone(LettuceSettings settings, Duration commandTimeout,
                                                    ClientResources resources) {
        RedisURI uri = settings.nodes().getFirst();
        RedisClient client = new LazySyncRedisClient(resources);
        client.setOptions(settings.standalone());
        StatefulRedisConnection<String, String> connection;
        try {
            connection = withHandshakeCause(() -> client.connect(ExactUtf8Codec.UTF8, uri));
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            throw new TaskpoolException("cannot connect to Redis at " + LettuceSettings.describe(uri) + ": " + rootMessage(e)
                    + TlsSetup.mismatchHint(uri, e), e);
        }
        if (!settings.sentinel() && isClusterNode(connection)) {
            // The same URL form works for a Cluster: its node says so, and the cluster client takes over.
            connection.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            return connectCluster(settings, commandTimeout, resources);
        }
        StatefulRedisConnection<String, String> shared = connection;
        return new RedisConnector(client, LettuceSettings.describe(uri), shared, shared.async(),
                () -> client.connect(ExactUtf8Codec.UTF8, uri),
                own -> ((StatefulRedisConnection<String, String>) own).sync(),
                () -> client.connectPubSub(ExactUtf8Codec.UTF8, uri), false, commandTimeout);
    }

    private static RedisConnector connectCluster(LettuceSettings settings, Duration commandTimeout,
                                                 ClientResources resources) {
        RedisURI first = settings.nodes().getFirst();
        String description = (first.isSsl() ? "rediss://" : "redis://")
                + String.join(",", settings.nodes().stream().map(node -> node.getHost() + ":" + node.getPort()).toList())
                + " (Cluster)";
        RedisClusterClient client = resources == null ? RedisClusterClient.create(settings.nodes())
                : RedisClusterClient.create(resources, settings.nodes());
        client.setOptions(settings.cluster());
        StatefulRedisClusterConnection<String, String> connection;
        try {
            connection = withHandshakeCause(() -> client.connect(ExactUtf8Codec.UTF8));
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            throw new TaskpoolException("cannot connect to Redis at " + description + ": " + rootMessage(e)
                    + TlsSetup.mismatchHint(first, e), e);
        }
        return new RedisConnector(client, description, connection, connection.async(),
                () -> client.connect(ExactUtf8Codec.UTF8),
                own -> ((StatefulRedisClusterConnection<String, String>) own).sync(),
                () -> client.connectPubSub(ExactUtf8Codec.UTF8), true, commandTimeout);
    }

    /**
     * Whether the node runs in cluster mode: CLUSTER INFO answers there and fails on a standalone
     * Redis ("cluster support disabled"). Any failure counts as standalone, e.g. a user whose ACL
     * does not allow CLUSTER INFO; such a Cluster is still reached by listing several seed nodes.
     */
    private static boolean isClusterNode(StatefulRedisConnection<String, String> connection) {
        try {
            // (async: the synchronous API is built on first use, and this connection may never need it)
            return LettuceFutures.awaitOrCancel(connection.async().clusterInfo(), connection.getTimeout().toMillis(),
                    TimeUnit.MILLISECONDS).startsWith("cluster_state:");
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Redis' clock as this process estimates it ({@link RedisClock}): the time every script call is
     * given, so that due times are Redis'. Made on first use (waiting for the first {@code TIME} at
     * most a reply wait), then sampled again in the background; closed with the connection.
     */
    public RedisClock clock() {
        return shared(RedisClock.class, () -> RedisClock.start(RedisClock.systemBase(),
                () -> async().time().toCompletableFuture(), timeouts().replyWait()));
    }

    /** How long a command may wait for Redis (also while Redis is unreachable) before it fails. */
    public Duration commandTimeout() {
        return commandTimeout;
    }

    /** Every wait derived from the command timeout (reply waits, add deadlines, blocking slices). */
    public RedisTimeouts timeouts() {
        return timeouts;
    }

    /** Whether this connects to a Redis Cluster (commands are routed by each key's slot). */
    public boolean isCluster() {
        return cluster;
    }

    /** The shared connection's commands, for async calls; in a Cluster, each goes to its key's master. */
    public RedisClusterAsyncCommands<String, String> async() {
        return async;
    }

    /** The shared connection's commands, blocking until each answers (built on first use: {@link LazySyncRedisClient}). */
    public RedisClusterCommands<String, String> sync() {
        return syncOf.apply(connection);
    }

    /**
     * A connection of its own for a blocking command (BLPOP), which would stall a shared one; in a
     * Cluster it reaches the current master of the key's slot, also after a failover.
     */
    public BlockingConnection newBlockingConnection() {
        StatefulConnection<String, String> own = newConnection.get();
        return new BlockingConnection(own, asyncOf(own), timeouts);
    }

    /**
     * A pub/sub connection. In a Cluster a {@code StatefulRedisClusterPubSubConnection}: its
     * SSUBSCRIBE goes to the master of the channel's slot (see {@link EventChannels}).
     */
    public StatefulRedisPubSubConnection<String, String> newPubSubConnection() {
        return newPubSub.get();
    }

    /**
     * In a Cluster, reads the topology again now (Lettuce also does every few seconds and on a
     * redirection); completes when the connections know it. Elsewhere, completes at once.
     */
    public CompletableFuture<Void> refreshTopology() {
        if (client instanceof RedisClusterClient cluster) {
            return cluster.refreshPartitionsAsync().toCompletableFuture();
        }
        return CompletableFuture.completedFuture(null);
    }

    /**
     * The one {@code type} object of this connection, made by {@code make} on first use and closed
     * with the connection (before it, latest made first). For what its users must share, such as
     * the fence every add passes (concurrent adds share its WAITs) or the threads that re-send
     * asynchronous adds, without this class knowing what they are.
     */
    public <T extends AutoCloseable> T shared(Class<T> type, Supplier<T> make) {
        synchronized (shared) {
            AutoCloseable existing = shared.get(type);
            if (existing == null) {
                existing = make.get();
                shared.put(type, existing);
            }
            return type.cast(existing);
        }
    }

    /**
     * A connection of its own for commands that block the connection they are sent on in Redis
     * (WAIT), with its async commands; in a Cluster, a cluster connection of its own.
     */
    public StatefulConnection<String, String> newOwnConnection() {
        return newConnection.get();
    }

    /** The async commands of a connection from {@link #newOwnConnection()}. */
    public static RedisClusterAsyncCommands<String, String> asyncOf(StatefulConnection<String, String> own) {
        if (own instanceof StatefulRedisClusterConnection<String, String> clusterConnection) {
            return clusterConnection.async();
        }
        return ((StatefulRedisConnection<String, String>) own).async();
    }

    /**
     * The commands of the node connection that carries {@code own}'s writes to {@code key}'s slot:
     * {@code own} itself, or in a Cluster its pooled connection to the slot's current master (the
     * one its routed commands use). WAIT only counts writes made on the connection it is sent on.
     */
    public static CompletableFuture<RedisClusterAsyncCommands<String, String>> writerOf(StatefulConnection<String, String> own,
                                                                                String key) {
        if (own instanceof StatefulRedisClusterConnection<String, String> clusterConnection) {
            RedisClusterNode master = clusterConnection.getPartitions().getMasterBySlot(SlotHash.getSlot(key));
            if (master == null) {
                return CompletableFuture.failedFuture(new TaskpoolException("no master serves the slot of " + key + " yet"));
            }
            return clusterConnection.getConnectionAsync(master.getUri().getHost(), master.getUri().getPort())
                    .thenApply(StatefulRedisConnection::async);
        }
        return CompletableFuture.completedFuture(((StatefulRedisConnection<String, String>) own).async());
    }

    /**
     * In a Cluster: how many healthy replicas follow the current master of {@code key}'s slot, as
     * the last topology refresh saw them. Outside a Cluster: -1 (ask the node with INFO).
     */
    public int clusterReplicasOf(String key) {
        if (!(connection instanceof StatefulRedisClusterConnection<String, String> clusterConnection)) {
            return -1;
        }
        var partitions = clusterConnection.getPartitions();
        RedisClusterNode master = partitions.getMasterBySlot(SlotHash.getSlot(key));
        if (master == null) {
            return 0;
        }
        int replicas = 0;
        for (RedisClusterNode node : partitions) {
            // the node filter already left out nodes marked failed
            if (master.getNodeId().equals(node.getSlaveOf()) && !node.is(RedisClusterNode.NodeFlag.HANDSHAKE)) {
                replicas++;
            }
        }
        return replicas;
    }

    /**
     * INFO {@code section} of every master (one standalone Redis, or each master of a Cluster), by
     * node address: counters such as commandstats or used_cpu_* are per node.
     */
    public Map<String, String> infoOfEachMaster(String section) {
        Map<String, String> byNode = new TreeMap<>();
        if (connection instanceof StatefulRedisClusterConnection<String, String> clusterConnection) {
            for (RedisClusterNode node : clusterConnection.getPartitions()) {
                if (node.getRole().isUpstream() && !node.getSlots().isEmpty()) {
                    byNode.put(node.getUri().getHost() + ":" + node.getUri().getPort(),
                            clusterConnection.getConnection(node.getNodeId()).sync().info(section));
                }
            }
        } else {
            byNode.put(description, new RedisCalls(this).await(async.info(section).toCompletableFuture(), "read INFO " + section));
        }
        return byNode;
    }

    /**
     * The addresses of the masters that serve slots (sorted), named as in {@link #infoOfEachMaster};
     * on a standalone Redis, its one node.
     */
    public List<String> masters() {
        if (connection instanceof StatefulRedisClusterConnection<String, String> clusterConnection) {
            return clusterConnection.getPartitions().stream()
                    .filter(node -> node.getRole().isUpstream() && !node.getSlots().isEmpty())
                    .map(node -> node.getUri().getHost() + ":" + node.getUri().getPort()).sorted().toList();
        }
        return List.of(description);
    }

    /**
     * The address of the master that serves {@code key}'s slot, named as in {@link #infoOfEachMaster}
     * (on a standalone Redis, its one node), in this client's current view of the topology.
     *
     * @throws TaskpoolException when no master serves the slot (it is failing over)
     */
    public String masterOf(String key) {
        return masterOfSlot(SlotHash.getSlot(key));
    }

    /** As {@link #masterOf}, for a slot. */
    public String masterOfSlot(int slot) {
        if (connection instanceof StatefulRedisClusterConnection<String, String> clusterConnection) {
            RedisClusterNode node = clusterConnection.getPartitions().getMasterBySlot(slot);
            if (node == null) {
                throw new TaskpoolException("no master serves slot " + slot + " in the Cluster at "
                        + description + " right now");
            }
            return node.getUri().getHost() + ":" + node.getUri().getPort();
        }
        return description;
    }

    /** The Redis ACL user this connects as ("default" when the URL names none; null when its credentials cannot be read now). */
    public String user() {
        return user;
    }

    /** The URI without its password, for messages and logs. */
    public String describe() {
        return description;
    }

    /**
     * Lettuce loses the cause of a handshake that fails very fast (a wrong password on a nearby
     * server, a TLS-only server closing a plain connection): its connect listener then finds the
     * handshake handler already gone and reports only "RedisHandshakeHandler not registered". A
     * second attempt almost always reports the real cause (WRONGPASS, a reset), so try up to three
     * times before giving up with what the last one said.
     */
    static <T> T withHandshakeCause(Supplier<T> connect) {
        for (int attempt = 1; ; attempt++) {
            try {
                return connect.get();
            } catch (RuntimeException e) {
                if (attempt == 3 || !String.valueOf(rootMessage(e)).contains("RedisHandshakeHandler not registered")) {
                    throw e;
                }
            }
        }
    }

    public static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String own = error.getMessage();
        String deepest = root.getMessage();
        return root == error || deepest == null ? String.valueOf(own) : own + " (" + deepest + ")";
    }

    private void closeShared() {
        List<AutoCloseable> made;
        synchronized (shared) {
            made = new ArrayList<>(shared.values());
            shared.clear();
        }
        for (AutoCloseable each : made.reversed()) {
            try {
                each.close();
            } catch (Exception e) {
                throw new TaskpoolException("cannot close " + each.getClass().getSimpleName() + ": " + rootMessage(e), e);
            }
        }
    }

    @Override
    public void close() {
        try {
            closeShared();
            connection.close();
        } finally {
            try {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            } finally {
                if (ownResources != null) {
                    ownResources.shutdown();
                }
            }
        }
    }
}
