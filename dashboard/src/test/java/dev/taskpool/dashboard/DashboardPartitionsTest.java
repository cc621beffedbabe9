package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's API for a kind with {@code partitions: 3}: one overview row, the kind's counts
 * with a row per partition, a listing paged through every partition, each task's page, and
 * pause/resume of every partition.
 */
class DashboardPartitionsTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private RedisConnector redis;
    private DashboardServer dashboard;
    private String task;
    private final List<Long> ids = new ArrayList<>();

    @BeforeEach
    void start() {
        task = TestRedis.uniqueTaskId("dashparts");
        redis = RedisConnector.connect(TestRedis.uri());
        new AddStore(redis).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 1, 0, Duration.ZERO,
                Duration.ofSeconds(5), 100, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(600), Backoff.FIXED,
                FlowControl.NONE, 3));
        AddStore adds = new AddStore(redis);
        for (int i = 0; i < 5; i++) {
            ids.add(adds.add(task, null, "[" + i + "]", System.currentTimeMillis()).id());
        }
        dashboard = new DashboardServer(redis, new TaskOperations(redis, Clock.systemUTC()), DashboardSettings.loopback(0));
    }

    @AfterEach
    void stop() {
        if (dashboard != null) dashboard.close();
        Harness.deleteTaskKeys(task);
        redis.sync().srem(Keys.TASK_REGISTRY, task);
        redis.close();
    }

    private JsonNode call(String method, String path, int status) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(dashboard.url() + path.substring(1)))
                .timeout(Duration.ofSeconds(10));
        if (method.equals("POST")) {
            request.header(Access.CSRF_HEADER, "1").POST(HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(status, response.statusCode(), method + " " + path + ": " + response.body());
            return Json.read(response.body(), path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Test
    void theKindIsOneRowWithItsPartitionsAndItsTasksAreFoundInThem() {
        JsonNode overview = call("GET", "/api/overview", 200);
        List<String> rows = overview.get("kinds").findValuesAsText("task").stream()
                .filter(name -> name.startsWith(task)).toList();
        assertEquals(List.of(task), rows, "one row for the kind, none per partition");

        JsonNode stats = call("GET", "/api/kinds/" + task, 200);
        assertEquals(5, stats.get("waiting").asLong());
        assertEquals(3, stats.get("partitions").size());
        KindLayout layout = KindLayout.fromDefinition(task, redis.sync().hgetall(Keys.of(task).definition()));
        assertEquals(layout.partitions().get(2), stats.get("partitions").get(2).get("name").asText());
        assertEquals(1, call("GET", "/api/kinds/" + layout.partitions().get(2), 200).get("waiting").asLong(),
                "one partition, by its name");

        List<Long> listed = new ArrayList<>();
        String after = "";
        for (int page = 0; page < 10; page++) {
            JsonNode body = call("GET", "/api/kinds/" + task + "/tasks?status=waiting&limit=2&after=" + after, 200);
            body.get("tasks").forEach(info -> listed.add(info.get("id").asLong()));
            if (body.get("next").isNull()) {
                break;
            }
            after = body.get("next").asText();
        }
        assertEquals(new HashSet<>(ids), new HashSet<>(listed));
        assertEquals(ids.size(), listed.size(), "none twice: " + listed);
        for (long id : ids) {
            assertEquals("WAITING", call("GET", "/api/kinds/" + task + "/tasks/" + id, 200).get("status").asText());
        }

        call("POST", "/api/kinds/" + task + "/pause", 200);
        for (Keys keys : layout.all()) {
            assertEquals(1, redis.sync().exists(keys.paused()), keys.partition());
        }
        assertTrue(call("GET", "/api/kinds/" + task, 200).get("paused").asBoolean());
        call("POST", "/api/kinds/" + task + "/resume", 200);
        for (Keys keys : layout.all()) {
            assertEquals(0, redis.sync().exists(keys.paused()), keys.partition());
        }
        long last = ids.getLast();
        call("POST", "/api/kinds/" + task + "/tasks/" + last + "/cancel", 200);
        assertEquals("FAILURE", redis.sync().hget(layout.ofId(last).task(last), "status"));
    }
}
