package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.dashboard.DashboardServer;
import dev.taskpool.dashboard.DashboardSettings;
import dev.taskpool.metrics.DashboardMetrics;
import dev.taskpool.metrics.ProcessMeters;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.metrics.RedisLatencies;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's own /metrics: every published kind's queue gauges and totals from Redis, and the JVM's meters. */
class DashboardMetricsTest {
    @TempDir
    Path dir;

    @Test
    void theDashboardServesTheKindsGaugesFromRedisWithoutAWorker() throws Exception {
        String kind = TestRedis.uniqueTaskId("dashmetrics");
        TestApp app = TestApp.in(dir.resolve("app")).task(kind, 1, 0, 0, 10, 100, "scripts.m.Work", "")
                .script("m", "function Work() { return 1; }");
        try (Harness harness = Harness.open(app.dir()); ProcessMeters meters = new ProcessMeters()) {
            for (int i = 0; i < 3; i++) {
                harness.client.add(kind, i);
            }
            // connected as `taskpool dashboard` connects: every command's latency recorded
            try (RedisConnector redis = RedisConnector.connect(TestRedis.uri(), RedisConnector.DEFAULT_COMMAND_TIMEOUT,
                    RedisTls.fromEnvironment(), RedisLatencies.recorder(meters.registry()))) {
            TaskOperations operations = new TaskOperations(redis, Clock.systemUTC());
            try (DashboardServer dashboard = new DashboardServer(redis, operations, DashboardSettings.loopback(0),
                    Map.of("/metrics", new DashboardMetrics(meters, operations)))) {
                // what the overview reads, as a browser's first visit does
                HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(dashboard.url() + "api/overview")).build(),
                        HttpResponse.BodyHandlers.ofString());
                HttpResponse<String> response = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(dashboard.url() + "metrics")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode(), response.body());
                String page = response.body();
                assertEquals(3.0, MetricsEndpointTest.value(page, "taskpool_queue_waiting", kind), "3 waiting, read from Redis:\n" + page);
                assertEquals(3.0, MetricsEndpointTest.value(page, "taskpool_kind_totals", kind, "counter", "added"), page);
                assertTrue(page.contains("jvm_memory_used_bytes"), "the JVM's meters are served too");
                assertTrue(page.contains("lettuce_command_completion_seconds_bucket{command="),
                        "Redis latencies by command, as buckets Prometheus can take quantiles of");
                int bytes = page.getBytes(StandardCharsets.UTF_8).length;
                assertTrue(bytes < MetricsEndpointTest.SCRAPE_LIMIT, "a scrape of the dashboard is " + bytes + " bytes, over "
                        + MetricsEndpointTest.SCRAPE_LIMIT + "; the largest families:\n" + MetricsEndpointTest.largestFamilies(page));
            }
            }
        }
    }
}
