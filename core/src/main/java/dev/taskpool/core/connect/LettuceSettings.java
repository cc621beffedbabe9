package dev.taskpool.core.connect;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.redis.RedisTls;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterURIUtil;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * What a Redis URL leads to, and the Lettuce settings for it: the nodes (one, a Sentinel set, or
 * the seed nodes of a Cluster), whether it goes through Sentinel, and the client options of a
 * standalone and of a cluster client.
 */
record LettuceSettings(List<RedisURI> nodes, boolean sentinel, ClientOptions standalone, ClusterClientOptions cluster) {
    /** How often a Cluster client re-reads the topology even when nothing told it to. */
    static final Duration TOPOLOGY_REFRESH_PERIOD = Duration.ofSeconds(5);
    /** The shortest time between two refreshes triggered by MOVED/ASK or failed reconnects. */
    static final Duration ADAPTIVE_REFRESH_PAUSE = Duration.ofMillis(500);

    /**
     * The one place that turns the URL into Lettuce's {@link RedisURI}s and client options, for
     * a standalone Redis, Sentinel and Cluster alike (socket, timeout and, for a Cluster, topology
     * refresh settings). Options every kind of connection needs (TLS, for instance) go into
     * {@code common}, which both the standalone and the cluster options are built from.
     */
    static LettuceSettings of(String uriText, Duration commandTimeout) {
        return of(uriText, commandTimeout, RedisTls.none());
    }

    static LettuceSettings of(String uriText, Duration commandTimeout, RedisTls tls) {
        List<RedisURI> nodes = parse(uriText);
        nodes.forEach(node -> node.setTimeout(commandTimeout));
        boolean sentinel = nodes.size() == 1 && !nodes.getFirst().getSentinels().isEmpty();
        // checks the TLS files before a client starts its threads (every node shares the URL's scheme)
        SslOptions sslOptions = TlsSetup.sslOptions(tls, nodes.getFirst());
        ClientOptions common = ClientOptions.builder()
                .autoReconnect(true)
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(5)).keepAlive(true).build())
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .sslOptions(sslOptions)
                .build();
        ClusterClientOptions cluster = ClusterClientOptions.builder(common)
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        // periodic, so a failover nobody has run into yet is still noticed
                        .enablePeriodicRefresh(TOPOLOGY_REFRESH_PERIOD)
                        // and at once on MOVED/ASK and on reconnects that keep failing (a dead master)
                        .enableAllAdaptiveRefreshTriggers()
                        .adaptiveRefreshTriggersTimeout(ADAPTIVE_REFRESH_PAUSE)
                        .refreshTriggersReconnectAttempts(2)
                        .build())
                // A node the cluster marked failed is not connected to: commands go to its promoted replica.
                .nodeFilter(node -> !(node.is(RedisClusterNode.NodeFlag.FAIL) || node.is(RedisClusterNode.NodeFlag.EVENTUAL_FAIL)
                        || node.is(RedisClusterNode.NodeFlag.NOADDR)))
                .build();
        return new LettuceSettings(nodes, sentinel, common, cluster);
    }

    /** One URI per node: {@code redis://h1:p1,h2:p2} lists seed nodes of a Cluster. */
    private static List<RedisURI> parse(String uriText) {
        try {
            int schemeEnd = uriText.indexOf("://");
            if (schemeEnd < 0) {
                return List.of(RedisURI.create(uriText));   // Lettuce names what is missing
            }
            String scheme = uriText.substring(0, schemeEnd);
            String rest = uriText.substring(schemeEnd + 3);
            int authorityEnd = firstOf(rest, "/?#");
            String authority = rest.substring(0, authorityEnd);
            boolean severalNodes = authority.contains(",") && (scheme.equals("redis") || scheme.equals("rediss"));
            if (severalNodes) {
                List<RedisURI> nodes = RedisClusterURIUtil.toRedisURIs(URI.create(uriText));
                if (nodes.isEmpty()) {
                    throw new IllegalArgumentException("no node in '" + authority + "'");
                }
                return nodes;
            }
            return List.of(RedisURI.create(uriText));
        } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
            throw new TaskpoolException("invalid Redis URI '" + uriText + "': " + e.getMessage()
                    + " (expected e.g. redis://127.0.0.1:6379, rediss://user:password@host:6380/0,"
                    + " redis://h1:7000,h2:7001 for Cluster seed nodes or redis-sentinel://h1:26379,h2:26379#mymaster)", e);
        }
    }

    private static int firstOf(String text, String characters) {
        int at = text.length();
        for (char c : characters.toCharArray()) {
            int found = text.indexOf(c);
            if (found >= 0 && found < at) {
                at = found;
            }
        }
        return at;
    }

    /** The user name the URL gives (Lettuce keeps it with the password); "default" when it gives none. */
    static String userOf(RedisURI uri) {
        try {
            RedisCredentials credentials = uri.getCredentialsProvider() == null ? null
                    : uri.getCredentialsProvider().resolveCredentials().block(Duration.ofSeconds(1));
            return credentials != null && credentials.hasUsername() ? credentials.getUsername() : "default";
        } catch (RuntimeException e) {
            return null;   // a provider that cannot say now: a refusal then names no user
        }
    }

    /** The URI without its password, for messages and logs. */
    static String describe(RedisURI uri) {
        if (!uri.getSentinels().isEmpty()) {
            return (uri.isSsl() ? "rediss-sentinel://" : "redis-sentinel://")
                    + String.join(",", uri.getSentinels().stream().map(s -> s.getHost() + ":" + s.getPort()).toList())
                    + "#" + uri.getSentinelMasterId();
        }
        return (uri.isSsl() ? "rediss://" : "redis://") + uri.getHost() + ":" + uri.getPort()
                + (uri.getDatabase() == 0 ? "" : "/" + uri.getDatabase());
    }
}
