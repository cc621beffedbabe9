package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.TestApp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code taskpool dashboard} and {@code taskpool worker --dashboard-port} as a user calls them. */
class DashboardCommandTest {
    @TempDir
    Path dir;

    @Test
    void aDashboardThatWouldBeOpenToTheNetworkWithoutATokenDoesNotStart() {
        CliRun.Result open = CliRun.execute("dashboard", "--bind", "0.0.0.0", "--port", "0", "--redis", TestRedis.uri());
        assertEquals(1, open.code(), open.out() + open.err());
        assertTrue(open.err().contains("--token") && open.err().contains("0.0.0.0"), open.err());
        CliRun.Result badPort = CliRun.execute("dashboard", "--port", "70000", "--redis", TestRedis.uri());
        assertEquals(1, badPort.code());
        assertTrue(badPort.err().contains("port 70000 is out of range"), badPort.err());
        CliRun.Result help = CliRun.execute("dashboard", "--help");
        assertTrue(help.out().contains("--read-only") && help.out().contains("TASKPOOL_DASHBOARD_TOKEN"), help.out());
    }

    @Test
    void aWorkerThatWouldServeTheNetworkWithoutATokenRefusesBeforeItPublishesAnything() {
        String task = TestRedis.uniqueTaskId("dashrefused");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 5, 10, "scripts.d.Work", "").script("d", "function Work(id) { return id; }");
        CliRun.Result dashboard = CliRun.execute("worker", "--app", app.dir().toString(), "--redis", TestRedis.uri(),
                "--dashboard-port", "0", "--dashboard-bind", "0.0.0.0");
        assertEquals(1, dashboard.code(), dashboard.out() + dashboard.err());
        assertTrue(dashboard.err().contains("--dashboard-token") && dashboard.err().contains("0.0.0.0"), dashboard.err());
        assertNothingPublished(task);

        CliRun.Result metrics = CliRun.execute("worker", "--app", app.dir().toString(), "--redis", TestRedis.uri(),
                "--metrics-port", "0", "--metrics-bind", "0.0.0.0");
        assertEquals(1, metrics.code(), metrics.out() + metrics.err());
        assertTrue(metrics.err().contains("--metrics-token") && metrics.err().contains("--metrics-without-token")
                && metrics.err().contains("0.0.0.0"), metrics.err());
        assertNothingPublished(task);
    }

    private static void assertNothingPublished(String task) {
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri())) {
            assertFalse(redis.sync().sismember(Keys.TASK_REGISTRY, task), "the kind was registered before the refusal");
            assertEquals(0, redis.sync().exists(Keys.of(task).definition()), "its definition was published before the refusal");
        }
    }

    @Test
    void aWorkerServesTheDashboardOnTheDashboardPort() throws Exception {
        String task = TestRedis.uniqueTaskId("dashcli");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 5, 10, "scripts.d.Work", "").script("d", "function Work(id) { return id; }");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process worker = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx384m", "-cp", System.getProperty("java.class.path"),
                TaskpoolCommand.class.getName(), "worker", "--app", app.dir().toString(), "--redis", TestRedis.uri(),
                "--worker-id", task + "-worker", "--dashboard-port", "0", "--dashboard-read-only"))
                .redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8))) {
                out.lines().forEach(lines::add);
            } catch (IOException ignored) {
                // the process ended
            }
        });
        try {
            String url = dashboardUrl(lines);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> overview = http.send(HttpRequest.newBuilder(URI.create(url + "api/overview"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, overview.statusCode(), overview.body());
            JsonNode body = Json.read(overview.body(), "overview");
            assertTrue(body.get("kinds").findValuesAsText("task").contains(task), "the worker's dashboard lists its kind: " + body);
            assertTrue(body.get("readOnly").asBoolean(), "--dashboard-read-only reaches the dashboard");
            HttpResponse<String> pause = http.send(HttpRequest.newBuilder(URI.create(url + "api/kinds/" + task + "/pause"))
                    .header("X-Taskpool-Request", "1").POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, pause.statusCode(), pause.body());
        } finally {
            worker.destroy();
            if (!worker.waitFor(60, TimeUnit.SECONDS)) {
                worker.destroyForcibly();
                throw new AssertionError("the worker did not stop within 60 s of SIGTERM");
            }
        }
    }

    private static String dashboardUrl(BlockingQueue<String> lines) throws InterruptedException {
        Pattern announced = Pattern.compile("taskpool dashboard on (http://\\S+/)");
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(1, TimeUnit.SECONDS);
            if (line == null) continue;
            seen.append(line).append('\n');
            Matcher matcher = announced.matcher(line);
            if (matcher.find()) return matcher.group(1);
        }
        throw new AssertionError("the worker did not announce its dashboard within 60 s; it printed:\n" + seen);
    }
}
