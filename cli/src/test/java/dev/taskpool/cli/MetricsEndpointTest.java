package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.TestApp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskpool worker --metrics-port}: known work through a real worker process on a real Redis,
 * then {@code GET /metrics} over HTTP as Prometheus would scrape it, checking the counts.
 */
class MetricsEndpointTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern METRICS_AT = Pattern.compile("metrics at (http://\\S+/metrics)");

    /** Bytes a scrape may take: the JVM's meters, Redis latencies by command, and a few KB for each kind. */
    static final int SCRAPE_LIMIT = 50_000;

    @TempDir
    Path dir;

    @Test
    void aScrapeAfterKnownWorkShowsItsCounts() throws Exception {
        String task = TestRedis.uniqueTaskId("metrics");
        String fanout = TestRedis.uniqueTaskId("fanout");
        // 20 tasks that succeed and 3 that fail both of their runs (attempts 1: one retry each),
        // added by the worker itself (a fan-out task), so that its `added` counter counts them.
        TestApp app = TestApp.in(dir)
                .task(task, 4, 1, 0, 10, 100, "scripts.m.Work", "")
                .task(fanout, 1, 0, 0, 30, 10, "scripts.m.Fanout", "")
                .script("m", """
                        function Work(id, n) {
                          if (n < 0) { throw new Error('negative input ' + n); }
                          return n * 2;
                        }
                        function Fanout(id) {
                          const ids = [];
                          for (let i = 1; i <= 20; i++) { ids.push(Process('tasks.%1$s.add', i)); }
                          for (let i = 1; i <= 3; i++) { ids.push(Process('tasks.%1$s.add', -i)); }
                          return ids;
                        }
                        """.formatted(task));
        String redis = TestRedis.uri();
        Path log = dir.resolve("worker.log");
        Process worker = startWorker(app.dir(), redis, log);
        try (TaskpoolClient client = TaskpoolClient.connect(redis)) {
            URI metrics = awaitMetricsUri(worker, log);
            long fanoutId = client.add(fanout).id();
            var fanned = client.await(fanout, fanoutId, WAIT);
            assertEquals(TaskStatus.SUCCESS, fanned.status(), "the fan-out task: " + fanned.error());
            List<Long> ids = new ArrayList<>();
            fanned.response().forEach(node -> ids.add(node.asLong()));
            assertEquals(23, ids.size(), "ids added: " + fanned.response());
            for (long id : ids) {
                client.await(task, id, WAIT);
            }

            // A worker counts a task's end once Redis has it, a moment after the hash says so; the
            // gauges read from Redis may be a few seconds old.
            String page = awaitScrape(metrics, text -> value(text, "taskpool_tasks_succeeded_total", task) == 20
                    && value(text, "taskpool_tasks_failed_total", task) == 3
                    && value(text, "taskpool_kind_totals", task, "counter", "succeeded") == 20
                    && value(text, "taskpool_kind_totals", task, "counter", "failed") == 3);

            assertEquals(23, value(page, "taskpool_tasks_added_total", task), "tasks this worker added");
            assertEquals(1, value(page, "taskpool_tasks_succeeded_total", fanout), "the fan-out task itself");
            assertEquals(3, value(page, "taskpool_tasks_retried_total", task), "one retry per failing task");
            assertEquals(0, value(page, "taskpool_tasks_recovered_total", task), "no lease expired");
            assertEquals(20, value(page, "taskpool_run_duration_seconds_count", task, "outcome", "success"),
                    "runs that returned");
            assertEquals(6, value(page, "taskpool_run_duration_seconds_count", task, "outcome", "error"),
                    "runs that threw (3 tasks x 2 runs)");
            assertEquals(23, value(page, "taskpool_wait_seconds_count", task), "first starts");
            assertTrue(page.contains("taskpool_wait_seconds_bucket{task=\"" + task + "\",le=\""),
                    "the wait time is a histogram with buckets");
            assertEquals(4, value(page, "taskpool_slots_capacity", task), "worker_nums");
            assertEquals(0, value(page, "taskpool_slots_busy", task), "nothing running any more");
            // Read from Redis (the same in every worker), at most every few seconds.
            assertEquals(0, value(page, "taskpool_queue_waiting", task), "nothing waiting");
            assertEquals(0, value(page, "taskpool_queue_running", task), "nothing running");
            assertEquals(0, value(page, "taskpool_queue_oldest_age_seconds", task), "no oldest waiting task");
            assertEquals(0, value(page, "taskpool_queue_paused", task), "not paused");
            assertEquals(23, value(page, "taskpool_kind_totals", task, "counter", "added"), "the stats hash");
            assertEquals(3, value(page, "taskpool_kind_totals", task, "counter", "retried"), "the stats hash");
            assertTrue(page.contains("lettuce_command_completion_seconds_count{command=\"EVALSHA\""),
                    "Lettuce's command latencies (the scripts run as EVALSHA)");
            assertTrue(page.contains("jvm_memory_used_bytes{"), "JVM metrics");

            // Every metric the shipped Grafana dashboard queries is one this worker serves.
            for (String metric : dashboardMetrics()) {
                assertTrue(Pattern.compile("(?m)^" + Pattern.quote(metric) + "[{ ]").matcher(page).find(),
                        "deploy/grafana/dashboards/taskpool.json queries " + metric + ", which /metrics does not serve");
            }

            // Prometheus pays for every byte at every scrape: what is served is what an operator charts.
            int bytes = page.getBytes(StandardCharsets.UTF_8).length;
            assertTrue(bytes < SCRAPE_LIMIT, "a scrape of a worker serving 2 kinds is " + bytes + " bytes, over " + SCRAPE_LIMIT
                    + "; the largest families:\n" + largestFamilies(page));

            HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics)
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode(), "only GET scrapes");
        } finally {
            worker.destroy();
            if (!worker.waitFor(30, TimeUnit.SECONDS)) {
                worker.destroyForcibly();
            }
        }
    }

    @Test
    void withATokenAScrapeWithoutItIsRefusedAndOneWithItIsServed() throws Exception {
        String task = TestRedis.uniqueTaskId("metricstoken");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 10, 100, "scripts.m.Work", "")
                .script("m", "function Work(id) { return id; }");
        Path log = dir.resolve("worker.log");
        Process worker = startWorker(app.dir(), TestRedis.uri(), log, "--metrics-token", "s3cret");
        try {
            URI metrics = awaitMetricsUri(worker, log);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode(), anonymous.body());
            assertTrue(anonymous.body().contains("--metrics-token"), anonymous.body());
            assertFalse(anonymous.body().contains("taskpool_"), "nothing of the metrics is shown");
            HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(metrics).header("Authorization", "Bearer guess").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, wrong.statusCode(), wrong.body());
            HttpResponse<String> bearer = http.send(HttpRequest.newBuilder(metrics).header("Authorization", "Bearer s3cret").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, bearer.statusCode(), bearer.body());
            assertTrue(bearer.body().contains("taskpool_slots_capacity{task=\"" + task + "\"}"), bearer.body());
            String basic = Base64.getEncoder().encodeToString("prometheus:s3cret".getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> withBasic = http.send(HttpRequest.newBuilder(metrics).header("Authorization", "Basic " + basic).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, withBasic.statusCode(), "basic auth with the token as password");
        } finally {
            worker.destroy();
            if (!worker.waitFor(30, TimeUnit.SECONDS)) {
                worker.destroyForcibly();
            }
        }
    }

    /** The metric families of a scrape with their sizes in bytes, largest first (to say what made it big). */
    static String largestFamilies(String page) {
        Map<String, Integer> sizes = new TreeMap<>();
        for (String line : page.split("\n")) {
            String name = line.startsWith("#") ? null : line.split("[{ ]", 2)[0];
            if (name != null && !name.isEmpty()) {
                sizes.merge(name, line.length() + 1, Integer::sum);
            }
        }
        return sizes.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(15)
                .map(entry -> entry.getValue() + " " + entry.getKey()).collect(Collectors.joining("\n"));
    }

    /** The metric names in the expressions of the shipped Grafana dashboard. */
    private static Set<String> dashboardMetrics() throws IOException {
        var dashboard = Json.MAPPER.readTree(
                Path.of("..", "deploy", "grafana", "dashboards", "taskpool.json").toFile());
        Set<String> metrics = new TreeSet<>();
        Pattern name = Pattern.compile("\\b((?:taskpool|lettuce|jvm|process)_[a-z_]+)");
        for (var panel : dashboard.path("panels")) {
            for (var target : panel.path("targets")) {
                Matcher found = name.matcher(target.path("expr").asText());
                while (found.find()) {
                    metrics.add(found.group(1));
                }
            }
        }
        assertTrue(metrics.size() > 10, "the dashboard's metrics: " + metrics);
        return metrics;
    }

    private static Process startWorker(Path app, String redis, Path log, String... options) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), TaskpoolCommand.class.getName(),
                "worker", "--app", app.toString(), "--redis", redis, "--metrics-port", "0", "--grace", "2s"));
        command.addAll(List.of(options));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** The URL the worker logs once it serves metrics (port 0: it picked a free one). */
    private static URI awaitMetricsUri(Process worker, Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher found = METRICS_AT.matcher(Files.readString(log));
            if (found.find()) {
                return URI.create(found.group(1));
            }
            if (!worker.isAlive()) {
                throw new AssertionError("the worker exited (" + worker.exitValue() + "):\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the worker did not log 'metrics at ...' within " + WAIT + ":\n" + Files.readString(log));
    }

    private static String scrape(URI metrics) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                "Prometheus text format: " + response.headers());
        return response.body();
    }

    private static String awaitScrape(URI metrics, Predicate<String> done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String page = scrape(metrics);
        while (!done.test(page)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the metrics did not reach the expected counts within " + WAIT + ":\n" + page);
            }
            Thread.sleep(100);
            page = scrape(metrics);
        }
        return page;
    }

    /**
     * The value of the sample named {@code name} whose labels include {@code task} and the given
     * label pairs; -1 when there is none.
     */
    static double value(String page, String name, String task, String... labels) {
        Map<String, String> wanted = new TreeMap<>();
        wanted.put("task", task);
        for (int i = 0; i + 1 < labels.length; i += 2) {
            wanted.put(labels[i], labels[i + 1]);
        }
        Pattern sample = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$");
        Matcher matcher = sample.matcher(page);
        while (matcher.find()) {
            Map<String, String> found = new TreeMap<>();
            Matcher label = Pattern.compile("(\\w+)=\"([^\"]*)\"").matcher(matcher.group(1));
            while (label.find()) {
                found.put(label.group(1), label.group(2));
            }
            if (found.entrySet().containsAll(wanted.entrySet())) {
                return Double.parseDouble(matcher.group(2));
            }
        }
        return -1;
    }
}
