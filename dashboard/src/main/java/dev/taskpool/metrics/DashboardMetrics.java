package dev.taskpool.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.worker.metrics.KindGauges;
import java.io.IOException;
import java.time.Duration;

/**
 * The dashboard's {@code GET /metrics}: the kind-wide gauges of every published kind, read from
 * Redis (the same {@link KindGauges} a worker serves, so a Prometheus that scrapes only the
 * dashboard still sees queues and totals), plus the process's JVM and Lettuce meters. Kinds
 * published after the start are picked up at a scrape, at most once per {@link KindGauges#REFRESH}.
 */
public final class DashboardMetrics implements HttpHandler {
    private final TaskOperations operations;
    private final KindGauges gauges;
    private final PrometheusEndpoint endpoint;
    private volatile long kindsReadAtNanos;
    private volatile boolean kindsEverRead;

    public DashboardMetrics(ProcessMeters meters, TaskOperations operations) {
        this.operations = operations;
        this.gauges = new KindGauges(operations, meters.registry());
        this.endpoint = new PrometheusEndpoint(meters.registry());
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        watchNewKinds();
        endpoint.handle(exchange);
    }

    private void watchNewKinds() {
        Duration refresh = KindGauges.REFRESH;
        if (kindsEverRead && System.nanoTime() - kindsReadAtNanos < refresh.toNanos()) {
            return;
        }
        kindsReadAtNanos = System.nanoTime();
        kindsEverRead = true;
        try {
            operations.kinds().forEach(gauges::watch);
        } catch (RuntimeException e) {
            // the scrape goes on with the kinds already watched; the gauges log Redis trouble themselves
        }
    }
}
