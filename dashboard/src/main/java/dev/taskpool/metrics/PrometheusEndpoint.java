package dev.taskpool.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * {@code GET /metrics}: a Prometheus registry's meters in the Prometheus text format. A plain
 * {@link HttpHandler}, so that any JDK {@code HttpServer} can mount it: the worker's metrics port
 * ({@link MetricsServer}) and the dashboard's server alike. Other methods get 405.
 */
public final class PrometheusEndpoint implements HttpHandler {
    /** The Prometheus text exposition format, version 0.0.4 (what every Prometheus scrapes). */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    public PrometheusEndpoint(PrometheusMeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                byte[] body = ("method " + method + " is not allowed on " + exchange.getRequestURI().getPath()
                        + ": use GET\n").getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(405, body.length);
                exchange.getResponseBody().write(body);
                return;
            }
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
