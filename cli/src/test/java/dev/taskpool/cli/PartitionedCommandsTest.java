package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the command line shows and does for a kind with {@code partitions: 3}: one row for the
 * kind, {@code stats TASK} with its partitions, {@code list} paging through every partition,
 * {@code get} and the actions by id in the task's partition, pause and resume of every partition.
 */
class PartitionedCommandsTest {
    private String task;
    private RedisConnector redis;
    private KindLayout layout;
    private final List<Long> ids = new ArrayList<>();

    @BeforeEach
    void publish() {
        task = TestRedis.uniqueTaskId("clipart");
        redis = RedisConnector.connect(TestRedis.uri());
        new AddStore(redis).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                Duration.ofSeconds(5), 90, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(600), Backoff.FIXED,
                FlowControl.NONE, 3));
        AddStore adds = new AddStore(redis);
        for (int i = 0; i < 7; i++) {
            ids.add(adds.add(task, null, "[" + i + "]", System.currentTimeMillis()).id());
        }
        layout = KindLayout.fromDefinition(task, redis.sync().hgetall(Keys.of(task).definition()));
    }

    @AfterEach
    void cleanUp() {
        Harness.deleteTaskKeys(task);
        redis.sync().srem(Keys.TASK_REGISTRY, task);
        redis.close();
    }

    private static Result ok(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--redis", TestRedis.uri()));
        Result result = execute(all.toArray(String[]::new));
        assertEquals(0, result.code(), String.join(" ", args) + " failed: " + result.err() + result.out());
        return result;
    }

    @Test
    void statsShowsTheKindOnceAndItsPartitionsWhenAskedFor() {
        JsonNode overview = Json.read(ok("stats", "--json").out(), "output");
        int rows = 0;
        for (JsonNode kind : overview.path("kinds")) {
            rows += kind.path("task").asText().equals(task) ? 1 : 0;
            assertTrue(!kind.path("task").asText().startsWith(task + "~"), "no row per partition: " + kind);
        }
        assertEquals(1, rows, "one row for the kind");
        JsonNode one = Json.read(ok("stats", task, "--json").out(), "output");
        assertEquals(7, one.path("waiting").asLong());
        assertEquals(90, one.path("size").asLong(), "the partitions' shares of size, summed");
        assertEquals(3, one.path("partitions").size());
        JsonNode second = one.path("partitions").get(1);
        assertEquals(layout.partitions().get(1), second.path("name").asText());
        assertEquals(2, second.path("waiting").asLong());
        assertTrue(second.path("slot").isIntegralNumber(), second.toString());
        String text = ok("stats", task).out();
        assertTrue(text.contains("partitions: 3, all taking adds"), text);
        assertTrue(text.contains(layout.partitions().get(2)), text);
        JsonNode alone = Json.read(ok("stats", layout.partitions().get(2), "--json").out(), "output");
        assertEquals(2, alone.path("waiting").asLong(), "one partition by its name");
    }

    @Test
    void listPagesThroughEveryPartitionAndGetReadsEach() {
        List<Long> listed = new ArrayList<>();
        String after = null;
        for (int page = 0; page < 20; page++) {
            List<String> args = new ArrayList<>(List.of("list", task, "--limit", "3", "--json"));
            if (after != null) {
                args.addAll(List.of("--after", after));
            }
            JsonNode json = Json.read(ok(args.toArray(String[]::new)).out(), "output");
            json.path("tasks").forEach(info -> listed.add(info.path("id").asLong()));
            after = json.path("nextCursor").isTextual() ? json.path("nextCursor").asText() : null;
            if (after == null) {
                break;
            }
        }
        assertEquals(new HashSet<>(ids), new HashSet<>(listed), "every task once: " + listed);
        assertEquals(ids.size(), listed.size(), "none twice: " + listed);
        for (long id : ids) {
            JsonNode got = Json.read(ok("get", task, Long.toString(id)).out(), "output");
            assertEquals("WAITING", got.path("status").asText(), got.toString());
        }
    }

    @Test
    void actionsFindTheirPartition() {
        long id = ids.get(1);
        ok("cancel", task, Long.toString(id));
        assertEquals("FAILURE", redis.sync().hget(layout.ofId(id).task(id), "status"));
        ok("retry", task, Long.toString(id));
        assertEquals("WAITING", redis.sync().hget(layout.ofId(id).task(id), "status"));
        ok("pause", task);
        for (Keys keys : layout.all()) {
            assertEquals(1, redis.sync().exists(keys.paused()), "paused: " + keys.partition());
        }
        assertTrue(ok("stats", task).out().contains("yes"), "the kind shows as paused");
        ok("resume", task);
        for (Keys keys : layout.all()) {
            assertEquals(0, redis.sync().exists(keys.paused()), "resumed: " + keys.partition());
        }
    }
}
