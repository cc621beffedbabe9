package dev.taskpool.metrics;

import com.sun.net.httpserver.HttpServer;
import dev.taskpool.core.TaskpoolException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * The JDK's own HTTP server serving {@code GET /metrics} for a worker process ({@code taskpool worker
 * --metrics-port P}), on virtual threads: a scrape every few seconds needs nothing bigger.
 */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /** Serves {@code registry} at {@code http://bind:port/metrics}; port 0 picks a free one. */
    public static MetricsServer start(String bind, int port, PrometheusMeterRegistry registry) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("metrics port " + port + " is not a TCP port (0 to 65535)");
        }
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(bind, port), 16);
        } catch (IOException e) {
            throw new TaskpoolException("cannot serve metrics on " + bind + ":" + port + ": " + e.getMessage()
                    + " (is the port in use, or the address not this machine's?)", e);
        }
        server.createContext("/metrics", new PrometheusEndpoint(registry));
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return new MetricsServer(server);
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
