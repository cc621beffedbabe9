package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's HTTP side against a real Redis: the API, its errors, its access rules and the event stream. */
class DashboardServerTest {
    static final String HELD = TestRedis.uniqueTaskId("dashapi.held");
    static final String OTHER = TestRedis.uniqueTaskId("dashapi.other");
    static final String PAGED = TestRedis.uniqueTaskId("dashapi.paged");
    static final String DELAYED = TestRedis.uniqueTaskId("dashapi.delayed");

    @TempDir
    static Path dir;
    static Harness harness;
    static TaskOperations operations;
    static DashboardServer dashboard;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        // no worker: what is added stays WAITING, so listings are exact
        TestApp app = TestApp.in(dir.resolve("app"))
                .task(HELD, 1, 0, 0, 10, 100, "scripts.api.Work", "")
                .task(OTHER, 1, 0, 0, 10, 100, "scripts.api.Work", "")
                .task(PAGED, 1, 0, 0, 10, 100, "scripts.api.Work", "")
                .task(DELAYED, 1, 0, 0, 10, 100, "scripts.api.Work", "")
                .script("api", "function Work(id) { return id; }");
        harness = Harness.open(app.dir());
        operations = new TaskOperations(harness.redis, Clock.systemUTC());
        dashboard = new DashboardServer(harness.redis, operations, DashboardSettings.loopback(0),
                Map.of("/metrics", exchange -> HttpIo.send(exchange, 200, "text/plain", "up 1\n".getBytes(StandardCharsets.UTF_8))))
                .keepAliveEvery(Duration.ofMillis(200));
    }

    @AfterAll
    static void stop() {
        if (dashboard != null) dashboard.close();
        if (harness != null) harness.close();
    }

    static HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(dashboard.url() + path.substring(1))).GET());
    }

    static HttpResponse<String> post(String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(dashboard.url() + path.substring(1)))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) request.headers(headers);
        return send(request);
    }

    static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    static JsonNode json(HttpResponse<String> response, int status) {
        assertEquals(status, response.statusCode(), "HTTP status of " + response.request().uri() + ": " + response.body());
        return Json.read(response.body(), "answer of " + response.request().uri());
    }

    @Test
    void overviewKindAndTaskAreReadAsJsonAndTheTaskArgsComeBackAsGiven() {
        long id = harness.client.add(HELD, "<script>alert(1)</script>", Map.of("n", 1)).id();
        JsonNode overview = json(get("/api/overview"), 200);
        assertTrue(overview.get("kinds").findValuesAsText("task").contains(HELD), "overview lists " + HELD + ": " + overview);
        assertFalse(overview.get("readOnly").asBoolean());
        JsonNode stats = json(get("/api/kinds/" + HELD), 200);
        assertTrue(stats.get("waiting").asLong() >= 1, "waiting of " + HELD + ": " + stats);
        JsonNode task = json(get("/api/kinds/" + HELD + "/tasks/" + id), 200);
        assertEquals("WAITING", task.get("status").asText());
        assertEquals("<script>alert(1)</script>", task.get("args").get(0).asText(), "args are data: the page escapes them, the API keeps them");
        assertTrue(json(get("/api/workers"), 200).isArray());
    }

    @Test
    void aKindsTasksAreListedNewestFirstPageByPage() {
        String task = PAGED;
        long first = harness.client.add(task, 1).id();
        long second = harness.client.add(task, 2).id();
        long third = harness.client.add(task, 3).id();
        JsonNode page1 = json(get("/api/kinds/" + task + "/tasks?status=waiting&limit=2"), 200);
        assertEquals(List.of(third, second), ids(page1));
        assertFalse(page1.get("next").isNull(), "a next cursor while more remain");
        JsonNode page2 = json(get("/api/kinds/" + task + "/tasks?status=WAITING&limit=2&after=" + page1.get("next").asText()), 200);
        assertEquals(List.of(first), ids(page2));
        assertTrue(page2.get("next").isNull(), "no cursor on the last page");
    }

    @Test
    void aDelayedTaskShowsItsDueTimeAndRunNowGoesThroughTheApi() {
        long ready = harness.client.add(DELAYED, "ready").id();
        long delayed = harness.client.addWith(DELAYED, AddOptions.delay(Duration.ofMinutes(2)), "later").id();
        JsonNode stats = json(get("/api/kinds/" + DELAYED), 200);
        assertEquals(List.of(2L, 1L, 1L), List.of(stats.get("waiting").asLong(), stats.get("ready").asLong(),
                stats.get("delayed").asLong()), "waiting, ready, delayed: " + stats);
        JsonNode page = json(get("/api/kinds/" + DELAYED + "/tasks?status=waiting"), 200);
        assertEquals(List.of(delayed, ready), ids(page), "the delayed first, then the ready");
        long dueAt = page.get("tasks").get(0).get("due_at").asLong();
        assertTrue(dueAt > System.currentTimeMillis() + 60_000, "due in about 2 min: " + page);
        assertFalse(page.get("tasks").get(1).has("due_at"), "the ready one has no due time");
        assertEquals(dueAt, json(get("/api/kinds/" + DELAYED + "/tasks/" + delayed), 200).get("due_at").asLong());

        JsonNode refused = json(post("/api/kinds/" + DELAYED + "/tasks/" + ready + "/run-now", Access.CSRF_HEADER, "1"), 409);
        assertTrue(refused.get("error").asText().contains("is WAITING (ready)"), refused.toString());
        assertError(post("/api/kinds/" + DELAYED + "/tasks/" + delayed + "/run-now"), 403, Access.CSRF_HEADER);
        JsonNode done = json(post("/api/kinds/" + DELAYED + "/tasks/" + delayed + "/run-now", Access.CSRF_HEADER, "1"), 200);
        assertEquals("run-now", done.get("done").asText());
        JsonNode after = json(get("/api/kinds/" + DELAYED + "/tasks/" + delayed), 200);
        assertEquals("WAITING", after.get("status").asText());
        assertTrue(after.get("due_at").asLong() <= System.currentTimeMillis(), "due now: " + after);
        assertEquals(0, json(get("/api/kinds/" + DELAYED), 200).get("delayed").asLong());
    }

    static List<Long> ids(JsonNode page) {
        return StreamSupport.stream(page.get("tasks").spliterator(), false).map(t -> t.get("id").asLong()).toList();
    }

    @Test
    void badRequestsAreAnsweredWithWhatWasWrong() {
        assertError(get("/api/kinds/" + HELD + "/tasks?status=lost"), 400, "status 'lost' is unknown");
        assertError(get("/api/kinds/" + HELD + "/tasks?limit=0"), 400, "limit '0'");
        assertError(get("/api/kinds/" + HELD + "/tasks/abc"), 400, "'abc' is not a task id");
        assertError(get("/api/kinds/no%20kind"), 400, "'no kind' is not a task kind name");
        assertError(get("/api/kinds/" + HELD + "/tasks/999999"), 404, "does not exist");
        assertError(get("/api/kinds/never-published-kind"), 404, "never-published-kind");
        assertError(get("/api/nothing"), 404, "no such API path");
        assertError(get("/nothing.html"), 404, "no page /nothing.html");
        assertError(send(HttpRequest.newBuilder(URI.create(dashboard.url() + "api/overview"))
                .header(Access.CSRF_HEADER, "1").PUT(HttpRequest.BodyPublishers.noBody())), 405, "PUT is not supported");
        assertError(post("/api/kinds/" + HELD + "/explode", Access.CSRF_HEADER, "1"), 404, "no action 'explode'");
        assertError(get("/events?id=3"), 400, "needs task=T");
    }

    static void assertError(HttpResponse<String> response, int status, String part) {
        JsonNode body = json(response, status);
        assertTrue(body.get("error").asText().contains(part), "error of " + response.request().uri() + " names '" + part + "': " + body);
    }

    @Test
    void pagesComeFromTheServerItselfWithAPolicyThatAllowsNothingElse() {
        HttpResponse<String> page = get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<script src=\"/app.js\""), page.body());
        String policy = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), policy);
        assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(null));
        assertTrue(page.body().contains("<script src=\"/schedules.js\""), page.body());
        assertTrue(page.body().contains("<script src=\"/flow.js\""), page.body());
        for (String path : List.of("/app.js", "/schedules.js", "/flow.js")) {
            HttpResponse<String> script = get(path);
            assertEquals(200, script.statusCode(), path);
            assertTrue(script.headers().firstValue("Content-Type").orElse("").startsWith("text/javascript"), path);
            assertFalse(script.body().contains("innerHTML"), path + ": the page never parses data as HTML");
            String withoutSvgNamespace = script.body().replace("http://www.w3.org/2000/svg", "");
            assertFalse(withoutSvgNamespace.contains("http://") || withoutSvgNamespace.contains("https://"),
                    path + ": nothing is loaded from elsewhere");
        }
        assertEquals("up 1\n", get("/metrics").body(), "an extra handler is mounted at its path");
    }

    @Test
    void aChangeWithoutTheDashboardsHeaderIsRefusedAsPossiblyCrossSite() {
        assertError(post("/api/kinds/" + HELD + "/pause"), 403, Access.CSRF_HEADER);
        assertFalse(json(get("/api/kinds/" + HELD), 200).get("paused").asBoolean(), "nothing was paused");
    }

    @Test
    void aReadOnlyDashboardRefusesChangesAndATokenGuardsThem() {
        try (DashboardServer readOnly = new DashboardServer(harness.redis, operations, DashboardSettings.loopback(0).withReadOnly(true));
             DashboardServer guarded = new DashboardServer(harness.redis, operations, DashboardSettings.loopback(0).withToken("s3cret"))) {
            HttpResponse<String> refused = send(HttpRequest.newBuilder(URI.create(readOnly.url() + "api/kinds/" + HELD + "/pause"))
                    .header(Access.CSRF_HEADER, "1").POST(HttpRequest.BodyPublishers.noBody()));
            assertError(refused, 403, "read-only");
            HttpResponse<String> noToken = send(HttpRequest.newBuilder(URI.create(guarded.url() + "api/kinds/" + HELD + "/pause"))
                    .header(Access.CSRF_HEADER, "1").POST(HttpRequest.BodyPublishers.noBody()));
            assertError(noToken, 401, "token");
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(guarded.url() + "api/overview"))).statusCode(),
                    "reads stay open on loopback");
            assertFalse(json(get("/api/kinds/" + HELD), 200).get("paused").asBoolean(), "nothing was paused");
        }
    }

    @Test
    void listeningBeyondLoopbackWithoutATokenIsRefusedAndATakenPathTooForExtras() {
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class,
                () -> new DashboardServer(harness.redis, operations, new DashboardSettings("0.0.0.0", 0, true, null)));
        assertTrue(open.getMessage().contains("--token"), open.getMessage());
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                () -> new DashboardServer(harness.redis, operations, DashboardSettings.loopback(0), Map.of("/api/x", exchange -> { })));
        assertTrue(taken.getMessage().contains("/api/x"), taken.getMessage());
        IllegalStateException busy = assertThrows(IllegalStateException.class,
                () -> new DashboardServer(harness.redis, operations, DashboardSettings.loopback(dashboard.port())));
        assertTrue(busy.getMessage().contains(String.valueOf(dashboard.port())), busy.getMessage());
    }

    @Test
    void theEventStreamCarriesTheEventsOfTheKindAskedForOnly() throws Exception {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(dashboard.url() + "events?task=" + HELD)).GET().build();
        var streamed = http.sendAsync(request, HttpResponse.BodyHandlers.ofLines());
        HttpResponse<Stream<String>> response = streamed.get(60, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        Thread reader = Thread.ofVirtual().start(() -> response.body().forEach(lines::add));
        try {
            assertEquals("event: hello", nextLine(lines, "event: "), "the stream opens once subscribed");
            Wait.until("one browser connected", Duration.ofSeconds(60), () -> dashboard.eventListeners() >= 1);
            harness.client.add(OTHER, "not for this stream");
            long id = harness.client.add(HELD, "for this stream").id();
            assertEquals("event: task", nextLine(lines, "event: "));
            JsonNode event = Json.read(nextLine(lines, "data: ").substring("data: ".length()), "event");
            assertEquals(HELD, event.get("task").asText(), "the first event through is of the kind asked for: " + event);
            assertEquals(id, event.get("id").asLong());
            assertEquals("added", event.get("event").asText());
        } finally {
            reader.interrupt();
            response.body().close();
        }
        Wait.until("a browser that left is forgotten", Duration.ofSeconds(60), () -> dashboard.eventListeners() == 0);
    }

    static String nextLine(BlockingQueue<String> lines, String prefix) throws InterruptedException {
        while (true) {
            String line = lines.poll(60, TimeUnit.SECONDS);
            assertNotNull(line, "no line starting with '" + prefix + "' came within 60 s");
            if (line.startsWith(prefix)) return line;
        }
    }

    @Test
    void controlActionsGoThroughTheApiAndARefusedOneSaysWhy() {
        long id = harness.client.add(HELD, "to cancel").id();
        JsonNode refused = json(post("/api/kinds/" + HELD + "/tasks/" + id + "/retry", Access.CSRF_HEADER, "1"), 409);
        assertTrue(refused.get("error").asText().contains(String.valueOf(id)), "the refusal names the task: " + refused);
        json(post("/api/kinds/" + HELD + "/tasks/" + id + "/cancel", Access.CSRF_HEADER, "1"), 200);
        JsonNode canceled = json(get("/api/kinds/" + HELD + "/tasks/" + id), 200);
        assertEquals("FAILURE", canceled.get("status").asText());
        assertTrue(canceled.get("error").asText().contains("cancel"), canceled.toString());
        json(post("/api/kinds/" + HELD + "/tasks/" + id + "/delete", Access.CSRF_HEADER, "1"), 200);
        assertError(get("/api/kinds/" + HELD + "/tasks/" + id), 404, "does not exist");
        json(post("/api/kinds/" + HELD + "/pause", Access.CSRF_HEADER, "1"), 200);
        JsonNode paused = json(get("/api/kinds/" + HELD), 200);
        assertTrue(paused.get("paused").asBoolean());
        assertTrue(paused.get("pausedBy").asText().startsWith("dashboard@"), paused.toString());
        json(post("/api/kinds/" + HELD + "/resume", Access.CSRF_HEADER, "1"), 200);
        assertFalse(json(get("/api/kinds/" + HELD), 200).get("paused").asBoolean());
    }
}
