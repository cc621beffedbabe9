package dev.taskpool.core.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisURI;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the one connection seam makes of each URL form, before it connects anywhere. */
class RedisConnectorUrlTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    @Test
    void oneNodeIsOneUriWithUserPasswordAndDatabase() {
        var settings = LettuceSettings.of("redis://worker:secret@10.0.0.5:6380/2", TIMEOUT);
        assertEquals(1, settings.nodes().size());
        RedisURI uri = settings.nodes().getFirst();
        assertEquals("10.0.0.5", uri.getHost());
        assertEquals(6380, uri.getPort());
        assertEquals("worker", credentials(uri).getUsername());
        assertEquals("secret", new String(credentials(uri).getPassword()));
        assertEquals(2, uri.getDatabase());
        assertEquals(TIMEOUT, uri.getTimeout());
        assertFalse(settings.sentinel());
    }

    @Test
    void severalNodesAreClusterSeedsThatShareTheCredentials() {
        var settings = LettuceSettings.of("redis://:pw@h1:7000,h2:7001,h3", TIMEOUT);
        List<RedisURI> nodes = settings.nodes();
        assertEquals(List.of("h1:7000", "h2:7001", "h3:6379"), nodes.stream().map(n -> n.getHost() + ":" + n.getPort()).toList());
        assertTrue(nodes.stream().allMatch(n -> "pw".equals(new String(credentials(n).getPassword()))), "each seed has the password");
        assertTrue(settings.cluster().getTopologyRefreshOptions().isPeriodicRefreshEnabled(), "periodic topology refresh");
        assertFalse(settings.cluster().getTopologyRefreshOptions().getAdaptiveRefreshTriggers().isEmpty(),
                "refresh on MOVED/ASK and reconnects");
    }

    @Test
    void sentinelUrlsStayOneUriWithTheirSentinelsAndMaster() {
        var settings = LettuceSettings.of("redis-sentinel://s1:26379,s2:26380#mymaster", TIMEOUT);
        assertEquals(1, settings.nodes().size());
        assertTrue(settings.sentinel());
        assertEquals("mymaster", settings.nodes().getFirst().getSentinelMasterId());
        assertEquals(2, settings.nodes().getFirst().getSentinels().size());
        assertEquals("redis-sentinel://s1:26379,s2:26380#mymaster", LettuceSettings.describe(settings.nodes().getFirst()));
    }

    private static RedisCredentials credentials(RedisURI uri) {
        return uri.getCredentialsProvider().resolveCredentials().block();
    }

    @Test
    void aBadUrlIsNamedWithTheFormsThatWork() {
        TaskpoolException error = assertThrows(TaskpoolException.class,
                () -> LettuceSettings.of("http://localhost:6379", TIMEOUT));
        assertTrue(error.getMessage().contains("invalid Redis URI 'http://localhost:6379'"), error.getMessage());
        assertTrue(error.getMessage().contains("redis://h1:7000,h2:7001"), error.getMessage());
    }

    @Test
    void clusterSeedsThatNoneAnswersAreNamedInTheError() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        String url = "redis://127.0.0.1:" + closed + ",127.0.0.1:" + closed;
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> RedisConnector.connect(url, TIMEOUT));
        assertTrue(error.getMessage().startsWith("cannot connect to Redis at redis://127.0.0.1:" + closed + ",127.0.0.1:"
                + closed + " (Cluster)"), error.getMessage());
    }
}
