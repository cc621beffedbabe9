package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.support.TestRedis;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's HTTP as a careless or hostile client speaks it, over raw sockets: requests the
 * JDK's HTTP client would never send.
 */
class DashboardHttpTest {
    static RedisConnector redis;
    static DashboardServer dashboard;

    @BeforeAll
    static void start() {
        redis = RedisConnector.connect(TestRedis.uri());
        dashboard = new DashboardServer(redis, new TaskOperations(redis, Clock.systemUTC()), DashboardSettings.loopback(0));
    }

    @AfterAll
    static void stop() {
        if (dashboard != null) dashboard.close();
        if (redis != null) redis.close();
    }

    /** Sends {@code request} as given and reads the answer until the server closes the connection. */
    static String exchange(String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", dashboard.port()));
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static void assertSecureHeaders(String answer) {
        String head = answer.substring(0, Math.max(answer.indexOf("\r\n\r\n"), 0)).toLowerCase(Locale.ROOT);
        assertTrue(head.contains("content-security-policy: default-src 'self'"), "a policy: " + answer);
        assertTrue(head.contains("x-content-type-options: nosniff"), answer);
        assertTrue(head.contains("x-frame-options: deny"), answer);
        assertTrue(head.contains("content-type: application/json"), "an error the page can read: " + answer);
    }

    @Test
    void aRequestWithoutHostIsToldThatItNeedsOne() throws IOException {
        String answer = exchange("GET /api/overview HTTP/1.1\r\nConnection: close\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
        assertTrue(answer.contains("no Host header"), answer);
        assertFalse(answer.contains("'null'"), answer);
        assertSecureHeaders(answer);
    }

    @Test
    void aClientThatSendsItsHeadersSlowlyIsCutOff() throws Exception {
        long limit = HttpServers.REQUEST_TIME_LIMIT_SECONDS;
        assertEquals(String.valueOf(limit), System.getProperty(HttpServers.REQUEST_TIME_PROPERTY),
                "the JDK's server reads the limit from this property");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", dashboard.port()));
            CountDownLatch closed = new CountDownLatch(1);
            Thread.ofVirtual().start(() -> {
                try (InputStream in = socket.getInputStream()) {
                    while (in.read() >= 0) {
                        // the server answers nothing to a request it never got whole
                    }
                } catch (IOException reset) {
                    // a reset is a close too
                }
                closed.countDown();
            });
            OutputStream out = socket.getOutputStream();
            byte[] request = ("GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(600) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            long started = System.nanoTime();
            // A byte every 100 ms: the whole request would take a minute.
            for (int i = 0; i < request.length && closed.getCount() > 0; i++) {
                try {
                    out.write(request[i]);
                    out.flush();
                } catch (IOException e) {
                    break;   // the server closed the connection
                }
                closed.await(100, TimeUnit.MILLISECONDS);
            }
            assertTrue(closed.await(30, TimeUnit.SECONDS), "the connection was still open after the whole request was sent");
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertTrue(took.toSeconds() >= limit - 1, "closed after " + took + ", before the limit of " + limit + " s");
            assertTrue(took.toSeconds() < limit + 30, "closed only after " + took + " (limit " + limit + " s)");
        }
    }
}
