package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.dashboard.DashboardServer;
import dev.taskpool.dashboard.DashboardSettings;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's surfaces while Redis is full (maxmemory reached, policy noeviction), with real
 * workers draining the queue: a retry (which adds work, like an add) is refused from the CLI and
 * the dashboard with the same words as an add, the dashboard with 507 and a JSON error, never
 * Redis' raw "OOM ... script: ..."; cancel, pause, resume and delete still work; and `stats` and
 * the dashboard still show the live workers, one started while Redis was full included.
 */
class FullRedisOperatorTest {
    private static final String SERVED = "fullops.served";
    private static final String HELD = "fullops.held";
    private static final Duration LEASE = Duration.ofSeconds(2);
    /** The header the dashboard's page sends with a change (Access.CSRF_HEADER). */
    private static final String DASHBOARD_REQUEST = "X-Taskpool-Request";
    private static final String FULL = "is full (used memory reached maxmemory and its policy evicts nothing): ";

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void operatorActionsSayRedisIsFullAndTheWorkersStayVisible() {
        TestApp served = TestApp.in(dir.resolve("served")).task(SERVED, 2, 0, 0, 10, 1000, "scripts.full.Work", "")
                .script("full", "function Work(id, n) { if (n < 0) { throw new Error('bad input ' + n); } return n; }");
        TestApp held = TestApp.in(dir.resolve("held")).task(HELD, 1, 0, 0, 10, 1000, "scripts.full.Work", "")
                .script("full", "function Work(id, n) { return n; }");
        WorkerSettings settings = Harness.FAST.withLease(LEASE, Duration.ofMillis(400));
        try (LocalRedis redis = LocalRedis.startServer(List.of("--maxmemory-policy", "noeviction"));
             Harness serving = Harness.open(served.dir(), new ProcessRegistry(), redis.uri());
             Harness waiting = Harness.open(held.dir(), new ProcessRegistry(), redis.uri());
             RedisConnector connector = RedisConnector.connect(redis.uri());
             DashboardServer dashboard = new DashboardServer(connector, new TaskOperations(connector),
                     DashboardSettings.loopback(0))) {
            serving.startWorker(settings.withWorkerId("first"));
            List<Long> failed = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                long id = serving.add(SERVED, -1 - i);
                assertEquals(TaskStatus.FAILURE, serving.await(SERVED, id).status());
                failed.add(id);
            }
            long succeeded = serving.add(SERVED, 7);
            assertEquals(TaskStatus.SUCCESS, serving.await(SERVED, succeeded).status());
            // No worker serves HELD: what is added there waits, to be canceled.
            long toCancelByCli = waiting.add(HELD, 1);
            long toCancelByDashboard = waiting.add(HELD, 2);

            RedisClusterCommands<String, String> raw = connector.sync();
            fill(raw);
            long fullAt = System.currentTimeMillis();
            String uri = redis.uri();

            // A retry adds work: refused, in the words of an add, naming what was refused.
            Result retry = execute("retry", SERVED, Long.toString(failed.get(0)), "--redis", uri);
            assertEquals(1, retry.code(), retry.err());
            assertEquals("taskpool: Redis at " + connector.describe() + " " + FULL + "the request to retry task " + SERVED
                    + " " + failed.get(0) + " was refused and nothing was written; free memory or raise maxmemory",
                    retry.err().strip());
            Result retryAll = execute("retry", SERVED, "--failed", "--redis", uri);
            assertEquals(1, retryAll.code(), retryAll.err());
            assertTrue(retryAll.err().contains(FULL + "the request to retry the failed tasks of task " + SERVED
                    + " was refused and nothing was written; free memory or raise maxmemory"), retryAll.err());
            assertRefusedAsFull(post(dashboard, "kinds/" + SERVED + "/tasks/" + failed.get(1) + "/retry"), "retry task " + SERVED);
            assertRefusedAsFull(post(dashboard, "kinds/" + SERVED + "/retry-failed"), "retry the failed tasks of task " + SERVED);
            assertEquals(TaskStatus.FAILURE, serving.client.get(SERVED, failed.get(0)).orElseThrow().status(), "not retried");

            // Stopping work and freeing memory still work.
            assertEquals(0, execute("cancel", HELD, Long.toString(toCancelByCli), "--redis", uri).code());
            assertEquals(200, post(dashboard, "kinds/" + HELD + "/tasks/" + toCancelByDashboard + "/cancel").statusCode());
            assertEquals(0, execute("pause", HELD, "--redis", uri).code());
            assertEquals(0, execute("resume", HELD, "--redis", uri).code());
            assertEquals(200, post(dashboard, "kinds/" + HELD + "/pause").statusCode());
            assertEquals(200, post(dashboard, "kinds/" + HELD + "/resume").statusCode());
            assertEquals(0, execute("delete", SERVED, Long.toString(succeeded), "--redis", uri).code());
            assertEquals(200, post(dashboard, "kinds/" + SERVED + "/tasks/" + failed.get(2) + "/delete").statusCode());
            assertEquals(TaskStatus.FAILURE, serving.client.get(HELD, toCancelByCli).orElseThrow().status());

            // A worker started while Redis is full, and the first one, are shown well past the life of a
            // presence record written before Redis filled up (three leases).
            try (Harness late = Harness.open(served.dir(), new ProcessRegistry(), redis.uri())) {
                late.startWorker(settings.withWorkerId("late"));
                long recordLife = LEASE.multipliedBy(3).toMillis();
                Wait.until("stats shows both workers, seen after a record from before Redis filled up would have"
                        + " expired", Duration.ofSeconds(60), () -> seenSince(statsWorkers(uri), fullAt + recordLife)
                        .equals(Set.of("first", "late")));
                assertEquals(Set.of("first", "late"), seenSince(overview(dashboard).path("workers"), fullAt + recordLife),
                        "the dashboard shows them too");
                Result table = execute("stats", "--redis", uri);
                assertEquals(0, table.code(), table.err());
                assertTrue(table.out().lines().anyMatch(line -> line.startsWith("late ")), table.out());
                assertEquals(507, post(dashboard, "kinds/" + SERVED + "/retry-failed").statusCode(), "Redis is still full");
            }
        }
    }

    private static void assertRefusedAsFull(HttpResponse<String> response, String what) {
        assertEquals(507, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        String error = Json.read(response.body(), "the refusal").path("error").asText();
        assertTrue(error.contains(FULL + "the request to " + what) && error.endsWith("free memory or raise maxmemory"), error);
        assertFalse(error.contains("OOM") || error.contains("script:"), "not Redis' raw words: " + error);
    }

    /** The ids of the workers whose presence was written at or after {@code since}. */
    private static Set<String> seenSince(JsonNode workers, long since) {
        Set<String> ids = new TreeSet<>();
        workers.forEach(worker -> {
            if (worker.path("seenAtMs").asLong() >= since) {
                ids.add(worker.path("id").asText());
            }
        });
        return ids;
    }

    private static JsonNode statsWorkers(String uri) {
        Result json = execute("stats", "--json", "--redis", uri);
        assertEquals(0, json.code(), json.err());
        return Json.read(json.out(), "stats --json").path("workers");
    }

    private JsonNode overview(DashboardServer dashboard) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(dashboard.url() + "api/overview")).GET());
        assertEquals(200, response.statusCode(), response.body());
        return Json.read(response.body(), "/api/overview");
    }

    private HttpResponse<String> post(DashboardServer dashboard, String path) {
        return send(HttpRequest.newBuilder(URI.create(dashboard.url() + "api/" + path)).header(DASHBOARD_REQUEST, "1")
                .POST(HttpRequest.BodyPublishers.noBody()));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Writes 5 MB, then sets maxmemory 1 MB under what Redis uses: it stays over its limit for the
     * whole test (a limit reached by filling up to it would let small writes through as buffers shrink).
     */
    private static void fill(RedisClusterCommands<String, String> raw) {
        String value = "x".repeat(100_000);
        for (int i = 0; i < 50; i++) {
            raw.set("filler:" + i, value);
        }
        long used = 0;
        for (String line : raw.info("memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                used = Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        raw.configSet("maxmemory", Long.toString(used - 1024 * 1024));
        try {
            raw.set("probe", "1");
            throw new AssertionError("Redis accepted a write after it was filled");
        } catch (RedisCommandExecutionException e) {
            assertTrue(e.getMessage().startsWith("OOM"), e.getMessage());
        }
    }
}
