package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.TestRedis;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.junit.jupiter.api.Test;

/**
 * examples/addloop, the measurement of a script's {@code Process('tasks.x.add', ...)} loop run by
 * {@code taskpool run}: it adds what it says, one task per call, and reports the loop's rate (no
 * rate is asserted).
 */
class AddLoopExampleTest {
    @Test
    void theAddLoopAddsEachTaskOnceAndReportsItsRate() {
        String task = "bench.addloop";
        try (RedisConnector direct = RedisConnector.connect(TestRedis.uri())) {
            RedisClusterCommands<String, String> raw = direct.sync();
            deleteKeys(raw, task);
            CliRun.Result run = CliRun.execute("run", "--app", "../examples/addloop", "--redis", TestRedis.uri(),
                    "scripts.addloop.Adds", "300", "20");
            assertEquals(0, run.code(), run.out() + "\n" + run.err());
            JsonNode result = Json.read(run.out(), "the add loop's result");
            assertEquals(300, result.get("adds").asInt(), result.toString());
            assertEquals(20, result.get("warm_adds").asInt(), result.toString());
            assertTrue(result.get("adds_per_s").asDouble() > 0, result.toString());
            assertEquals(320, result.get("last_id").asInt(), "ids 1 to 320, one per add: " + result);
            Keys keys = Keys.of(task);
            assertEquals(320, raw.llen(keys.waiting()), "every add is waiting once");
            assertEquals("[299]", raw.hget(keys.task(320), "args"), "the last add's argument");
            deleteKeys(raw, task);
        }
    }

    private static void deleteKeys(RedisClusterCommands<String, String> raw, String task) {
        var keys = raw.keys("taskpool:{" + task + "}:*");
        if (!keys.isEmpty()) {
            raw.unlink(keys.toArray(String[]::new));
        }
    }
}
