package dev.taskpool.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.dashboard.Credentials;
import dev.taskpool.dashboard.HttpServers;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * The JDK's own HTTP server serving {@code GET /metrics} for a worker process ({@code taskpool worker
 * --metrics-port P}), on virtual threads: a scrape every few seconds needs nothing bigger.
 *
 * <p>Metrics name the kinds, the hosts and the load of a deployment, so they are the network's to
 * read only by choice: beyond loopback the port needs a token ({@code --metrics-token}, sent as
 * {@code Authorization: Bearer T} or as the password of basic auth, what Prometheus's
 * {@code authorization} and {@code basic_auth} scrape settings send), or an explicit
 * {@code --metrics-without-token} for a network only trusted scrapers reach.
 */
public final class MetricsServer implements AutoCloseable {
    public static final String TOKEN_VARIABLE = "TASKPOOL_METRICS_TOKEN";
    public static final String WITHOUT_TOKEN_VARIABLE = "TASKPOOL_METRICS_WITHOUT_TOKEN";

    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /**
     * Refuses a bind address beyond loopback without a token, unless that is asked for. Commands call
     * it before they touch Redis, so that a refused start leaves nothing behind.
     *
     * @throws IllegalArgumentException naming what to give instead
     */
    public static void requireTokenBeyondLoopback(String bind, String token, boolean withoutToken) {
        if (token != null && token.isBlank()) {
            throw new IllegalArgumentException("the metrics token is only whitespace: give a real secret or none");
        }
        if (token == null && !withoutToken && !isLoopback(bind)) {
            throw new IllegalArgumentException("metrics would be served on " + bind + ", beyond this machine, without a"
                    + " token: anyone on the network could read the kinds, hosts and load of this deployment; give"
                    + " --metrics-token T (or " + TOKEN_VARIABLE + ") and let Prometheus send it, or"
                    + " --metrics-without-token (" + WITHOUT_TOKEN_VARIABLE + "=true) on a network only trusted"
                    + " scrapers reach, or bind 127.0.0.1");
        }
    }

    private static boolean isLoopback(String bind) {
        try {
            return InetAddress.getByName(bind).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("metrics bind address '" + bind + "' is no address of this machine: "
                    + e.getMessage(), e);
        }
    }

    /** Serves {@code registry} at {@code http://bind:port/metrics} to anyone who reaches it; port 0 picks a free one. */
    public static MetricsServer start(String bind, int port, PrometheusMeterRegistry registry) {
        return start(bind, port, registry, null, false);
    }

    /**
     * Serves {@code registry} at {@code http://bind:port/metrics}; port 0 picks a free one.
     *
     * @param token        the secret every scrape must carry; null for none (loopback, or {@code withoutToken})
     * @param withoutToken whether serving beyond loopback without a token is wanted
     */
    public static MetricsServer start(String bind, int port, PrometheusMeterRegistry registry, String token,
                                      boolean withoutToken) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("metrics port " + port + " is not a TCP port (0 to 65535)");
        }
        String secret = token == null || token.isEmpty() ? null : token;
        requireTokenBeyondLoopback(bind, secret, withoutToken);
        HttpServer server;
        try {
            server = HttpServers.create(new InetSocketAddress(bind, port), 16);
        } catch (IOException e) {
            throw new TaskpoolException("cannot serve metrics on " + bind + ":" + port + ": " + e.getMessage()
                    + " (is the port in use, or the address not this machine's?)", e);
        }
        PrometheusEndpoint endpoint = new PrometheusEndpoint(registry);
        server.createContext("/metrics", secret == null ? endpoint : guarded(endpoint, secret));
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return new MetricsServer(server);
    }

    private static HttpHandler guarded(HttpHandler endpoint, String token) {
        byte[] expected = token.getBytes(StandardCharsets.UTF_8);
        return exchange -> {
            if (Credentials.parse(exchange.getRequestHeaders().getFirst("Authorization")).matches(expected)) {
                endpoint.handle(exchange);
                return;
            }
            refuse(exchange);
        };
    }

    private static void refuse(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = ("these metrics need the token given to --metrics-token: Authorization: Bearer <token>"
                    + " (Prometheus: authorization: {credentials_file: ...}), or basic auth with the token as password\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"taskpool metrics\"");
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    /** The port it listens on (the one picked, when it was started with 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
