package dev.taskpool.dashboard;

import static dev.taskpool.dashboard.DashboardServerTest.assertError;
import static dev.taskpool.dashboard.DashboardServerTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.schedule.ScheduleInfo;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The schedules' API against a real Redis with no worker running: a schedule put through
 * {@link ScheduleOperations} is listed and read, stop/start/trigger change its state in Redis, and
 * the access rules of every other action hold (read-only 403, token 401, no custom header 403).
 */
class DashboardSchedulesTest {
    static final String TASK = TestRedis.uniqueTaskId("dashsched.report");
    static final String SCHEDULE = TestRedis.uniqueTaskId("dashsched-hourly");
    static final String CSRF = Access.CSRF_HEADER;

    @TempDir
    static Path dir;
    static Harness harness;
    static ScheduleOperations schedules;
    static DashboardServer dashboard;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        harness = Harness.open(TestApp.in(dir.resolve("app")).task(TASK, 1, 0, 0, 10, 100, "scripts.report.Make", "")
                .script("report", "function Make(what) { return what; }").dir());
        schedules = new ScheduleOperations(harness.redis);
        schedules.put(ScheduleSpec.builder(SCHEDULE).name("hourly digest").cron("0 * * * *").task(TASK).argsJson("[1, \"two\"]")
                .build(), "test");
        dashboard = new DashboardServer(harness.redis, new TaskOperations(harness.redis, Clock.systemUTC()),
                DashboardSettings.loopback(0));
    }

    @AfterAll
    static void stop() {
        if (dashboard != null) dashboard.close();
        if (schedules != null) schedules.remove(SCHEDULE);
        if (harness != null) harness.close();
    }

    static HttpResponse<String> get(DashboardServer server, String path) {
        return send(HttpRequest.newBuilder(URI.create(server.url() + path.substring(1))).GET());
    }

    static HttpResponse<String> post(DashboardServer server, String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)))
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

    static ScheduleInfo state() {
        return schedules.get(SCHEDULE).orElseThrow(() -> new AssertionError("schedule " + SCHEDULE + " is gone"));
    }

    @Test
    void theScheduleIsListedAndReadWithItsFieldsAndArgsAsJson() {
        JsonNode list = json(get(dashboard, "/api/schedules"), 200);
        assertTrue(list.get("now").asLong() > 0, "the server's time, for 'in 3 s': " + list);
        JsonNode mine = null;
        for (JsonNode schedule : list.get("schedules")) {
            if (schedule.get("id").asText().equals(SCHEDULE)) mine = schedule;
        }
        assertTrue(mine != null, SCHEDULE + " listed: " + list);
        assertEquals("hourly digest", mine.get("name").asText());
        assertEquals("0 * * * *", mine.get("cron").asText());
        assertEquals(TASK, mine.get("task").asText());
        assertEquals(1, mine.get("args").get(0).asLong(), "args as JSON: " + mine);
        assertEquals("two", mine.get("args").get(1).asText());
        assertEquals(state().nextFireAt(), mine.get("nextFireAt").asLong());

        JsonNode one = json(get(dashboard, "/api/schedules/" + SCHEDULE), 200);
        assertEquals(SCHEDULE, one.get("id").asText());
        assertError(get(dashboard, "/api/schedules/no-such-" + SCHEDULE), 404, "no schedule 'no-such-" + SCHEDULE + "'");
        assertError(get(dashboard, "/api/schedules/" + SCHEDULE + "/history"), 404, "no such API path");
    }

    @Test
    void stopStartAndTriggerThroughTheApiChangeTheStateInRedis() {
        JsonNode stopped = json(post(dashboard, "/api/schedules/" + SCHEDULE + "/stop", CSRF, "1"), 200);
        assertEquals("stop", stopped.get("done").asText());
        assertEquals(SCHEDULE, stopped.get("schedule").asText());
        assertTrue(stopped.get("state").get("stopped").asBoolean(), stopped.toString());
        assertTrue(state().stopped(), "stopped in Redis");

        json(post(dashboard, "/api/schedules/" + SCHEDULE + "/start", CSRF, "1"), 200);
        ScheduleInfo started = state();
        assertFalse(started.stopped(), "started in Redis");
        assertTrue(started.nextFireAt() > 0, "start set a next fire time: " + started);

        JsonNode triggered = json(post(dashboard, "/api/schedules/" + SCHEDULE + "/trigger", CSRF, "1"), 200);
        assertEquals("trigger", triggered.get("done").asText());
        // no worker runs: the trigger waits in the schedule's state for one (the firing is the ticker's, tested there)
        assertTrue(harness.redis.sync().hget(Keys.of(TASK).schedule(SCHEDULE), "trigger_by").startsWith("dashboard@"),
                "the trigger is recorded, with who asked");

        assertError(post(dashboard, "/api/schedules/" + SCHEDULE + "/explode", CSRF, "1"), 404, "no action 'explode' on a schedule");
        assertError(post(dashboard, "/api/schedules/no-such-" + SCHEDULE + "/stop", CSRF, "1"), 404, "'no-such-" + SCHEDULE + "'");
    }

    @Test
    void readOnlyTokenAndCrossSiteRulesHoldForScheduleActions() {
        try (DashboardServer readOnly = new DashboardServer(harness.redis, new TaskOperations(harness.redis),
                DashboardSettings.loopback(0).withReadOnly(true));
             DashboardServer guarded = new DashboardServer(harness.redis, new TaskOperations(harness.redis),
                     DashboardSettings.loopback(0).withToken("s3cret"))) {
            assertEquals(200, get(readOnly, "/api/schedules").statusCode(), "a read-only dashboard shows schedules");
            assertError(post(readOnly, "/api/schedules/" + SCHEDULE + "/stop", CSRF, "1"), 403, "read-only");
            assertError(post(guarded, "/api/schedules/" + SCHEDULE + "/stop", CSRF, "1"), 401, "token");
            assertError(post(dashboard, "/api/schedules/" + SCHEDULE + "/stop"), 403, CSRF);
            assertFalse(state().stopped(), "no refused request stopped it");
            JsonNode withToken = json(post(guarded, "/api/schedules/" + SCHEDULE + "/trigger", "Authorization", "Bearer s3cret"), 200);
            assertEquals("trigger", withToken.get("done").asText(), "the token alone is enough: " + withToken);
        }
    }
}
