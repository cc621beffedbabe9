package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code stats}, {@code list} and {@code get} show of issue 19's flow control, against a real
 * Redis whose flow keys are written by hand as the scripts leave them: RUNNING of the cap, a line
 * saying what holds the kind back and until when (by Redis' clock), the duplicates refused, the
 * ready tasks of every priority, and each task's priority and key.
 */
class FlowCommandsTest {
    @TempDir
    Path dir;

    private String task;
    private Keys keys;
    private Harness harness;
    private RedisClusterCommands<String, String> raw;

    @BeforeEach
    void publish() {
        task = TestRedis.uniqueTaskId("cliflow");
        keys = Keys.of(task);
        harness = Harness.open(TestApp.in(dir).task(task, 1, 0, 0, 10, 100, "scripts.f.Work", "")
                .script("f", "function Work(n) { return n; }").dir());
        raw = harness.redis.sync();
    }

    @AfterEach
    void cleanUp() {
        harness.close();
        Harness.deleteTaskKeys(task);
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri())) {
            redis.sync().srem(Keys.TASK_REGISTRY, task);
        }
    }

    private static Result ok(String... args) {
        Result result = execute(args);
        assertEquals(0, result.code(), String.join(" ", args) + " failed: " + result.err());
        return result;
    }

    /** Redis' clock now, ms. */
    private long redisNow() {
        List<String> time = raw.time();
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }

    /** A ready task of {@code priority} with {@code key} (null: none), as the add script leaves it. */
    private long ready(int priority, String key, String args) {
        long id = raw.incr(keys.sequence());
        Map<String, String> hash = new LinkedHashMap<>(Map.of("status", "WAITING", "args", args, "attempt", "0",
                "current", "0", "total", "0", "message", "", "created_at", Long.toString(redisNow())));
        if (priority > 0) {
            hash.put("priority", Integer.toString(priority));
        }
        if (key != null) {
            hash.put("key", key);
            raw.set(keys.unique(key), Long.toString(id));
        }
        raw.hset(keys.task(id), hash);
        raw.lpush(keys.waiting(priority), Long.toString(id));
        return id;
    }

    /** A task that runs now: in the leases, as a fetch leaves it. */
    private long running() {
        long id = ready(0, null, "[0]");
        raw.lrem(keys.waiting(), 0, Long.toString(id));
        raw.hset(keys.task(id), Map.of("status", "RUNNING", "started_at", Long.toString(redisNow()), "attempt", "1"));
        raw.zadd(keys.leases(), redisNow() + 60_000, Long.toString(id));
        return id;
    }

    private String row(String table) {
        return table.lines().filter(line -> line.startsWith(task + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row of " + task + " in:\n" + table));
    }

    private JsonNode kindJson() {
        for (JsonNode node : Json.read(ok("stats", "--json", "--redis", TestRedis.uri()).out(), "stats --json").path("kinds")) {
            if (node.path("task").asText().equals(task)) {
                return node;
            }
        }
        throw new AssertionError("no kind " + task + " in stats --json");
    }

    @Test
    void statsShowsRunningOfTheCapWhatHoldsTheKindBackUntilWhenAndTheDuplicates() {
        harness.client.add(task, 1);
        ready(2, "invoice-42", "[2]");
        running();
        running();
        long now = redisNow();
        raw.hset(keys.flow(), Map.of("max_running", "2", "rate_limit", "2", "rate_per", "60000",
                "held_until", Long.toString(now + 120_000), "held_reason", "the mail service said 429"));
        raw.zadd(keys.rate(), now - 2000, "3:1");
        raw.zadd(keys.rate(), now - 1000, "4:1");
        raw.hset(keys.stats(), "duplicates", "5");

        String out = ok("stats", "--redis", TestRedis.uri()).out();
        String header = out.lines().findFirst().orElseThrow();
        assertTrue(header.contains("DUPLICATES"), "a DUPLICATES column once a kind refused one:\n" + out);
        List<String> cells = List.of(row(out).trim().split("\\s+"));
        // TASK READY DELAYED RUNNING SUCCEEDED FAILED RETRIED RECOVERED CANCELED DUPLICATES PAUSED
        assertEquals(List.of(task, "2", "0", "2/2", "0", "0", "0", "0", "0", "5", "no"), cells.subList(0, 11),
                "ready counts both priorities' queues, running is of the cap:\n" + out);
        long clockNow = System.currentTimeMillis();
        String expected = "held back: " + task + ": at cap (2/2); rate-limited until " + Human.clock(now - 2000 + 60_000, clockNow)
                + " (2 per 1m00s); held until " + Human.clock(now + 120_000, clockNow) + " (the mail service said 429)";
        assertTrue(out.lines().anyMatch(expected::equals), "a line says what holds it back:\n" + out + "\nexpected:\n" + expected);

        JsonNode kind = kindJson();
        assertEquals(2, kind.path("ready").asLong());
        assertEquals(5, kind.path("duplicates").asLong());
        assertEquals(2, kind.path("flow").path("maxRunning").asLong());
        assertTrue(kind.path("flow").path("atCap").asBoolean());
        assertEquals(now - 2000 + 60_000, kind.path("flow").path("rateLimitedUntil").asLong());
        assertEquals(now + 120_000, kind.path("flow").path("heldUntil").asLong());
        assertEquals("the mail service said 429", kind.path("flow").path("heldReason").asText());

        // watch's plain lines (not a terminal) say the same
        Result watched = execute("watch", task, "--refresh", "100ms", "--for", "1s", "--redis", TestRedis.uri());
        assertEquals(0, watched.code(), watched.err());
        String counts = watched.out().lines().filter(line -> line.contains(" counts " + task + ": ")).findFirst()
                .orElseThrow(() -> new AssertionError("no counts line:\n" + watched.out()));
        assertTrue(counts.endsWith(": waiting 2, running 2 of 2, succeeded 0, failed 0, retried 0, canceled 0, duplicates 5,"
                + " held back: " + expected.substring(("held back: " + task + ": ").length())), counts);

        // the hold lifts, a start leaves the window, a task ends: nothing holds it back
        raw.hset(keys.flow(), "held_until", Long.toString(now - 1));
        raw.zrem(keys.rate(), "4:1");
        raw.zpopmin(keys.leases());
        String free = ok("stats", "--redis", TestRedis.uri()).out();
        assertEquals("1/2", List.of(row(free).trim().split("\\s+")).get(3), free);
        assertFalse(free.contains("held back: " + task), "nothing holds it back:\n" + free);
    }

    @Test
    void withoutFlowControlStatsShowsThePlainCountsAndNoDuplicatesColumn() {
        String out = ok("stats", "--redis", TestRedis.uri()).out();
        assertEquals(List.of(task, "0", "0", "0"), List.of(row(out).trim().split("\\s+")).subList(0, 4), out);
        JsonNode kind = kindJson();
        assertEquals(0, kind.path("duplicates").asLong());
        assertEquals(0, kind.path("flow").path("maxRunning").asLong());
        assertFalse(kind.path("flow").path("atCap").asBoolean());
        assertFalse(out.contains("held back: " + task), out);
    }

    @Test
    void listShowsEachTasksPriorityAndKeyAndTheReadyOfEveryPriority() {
        long plain = harness.client.add(task, 1).id();
        String longKey = "customer-🦊-" + "x".repeat(40);
        long keyed = ready(2, longKey, "[2]");
        long urgent = ready(3, "invoice-42", "[3]");

        List<String> lines = ok("list", task, "--redis", TestRedis.uri()).out().lines().toList();
        String header = lines.getFirst();
        assertTrue(header.matches("ID +STATUS +RUN +PRIO +KEY +ADDED +DUE +PROGRESS +DETAIL"), header);
        assertEquals(4, lines.size(), String.join("\n", lines));
        List<List<String>> rows = lines.stream().skip(1).map(line -> List.of(line.trim().split("\\s+"))).toList();
        assertEquals(List.of(Long.toString(plain), Long.toString(keyed), Long.toString(urgent)),
                rows.stream().map(List::getFirst).toList(), "lowest priority first, the next to start last");
        assertEquals(List.of("0", "-"), rows.get(0).subList(3, 5), "priority 0, no key");
        assertEquals(List.of("3", "invoice-42"), rows.get(2).subList(3, 5));
        String shortened = Human.shorten(longKey, ListCommand.KEY_SHOWN);
        assertEquals(List.of("2", shortened), rows.get(1).subList(3, 5), "a long key is cut to " + ListCommand.KEY_SHOWN);
        assertEquals(ListCommand.KEY_SHOWN, shortened.codePointCount(0, shortened.length()));
        // the columns after KEY start at the same character in every row (the fox counts once)
        int added = header.indexOf("ADDED");
        for (String line : lines.subList(1, lines.size())) {
            assertTrue(line.codePointCount(0, line.length()) > added
                    && line.substring(line.offsetByCodePoints(0, added)).matches("\\S.*ago.*"), "aligned:\n" + String.join("\n", lines));
        }

        JsonNode listed = Json.read(ok("list", task, "--json", "--redis", TestRedis.uri()).out(), "list --json").path("tasks");
        assertEquals(longKey, listed.get(1).path("key").asText(), "--json gives the key whole");
        assertEquals(2, listed.get(1).path("priority").asInt());
        assertFalse(listed.get(0).has("key"));
        assertEquals(0, listed.get(0).path("priority").asInt(-1));
    }

    @Test
    void getShowsTheKeyAndPriority() {
        long urgent = ready(3, "invoice-42", "[3]");
        JsonNode got = Json.read(ok("get", task, Long.toString(urgent), "--redis", TestRedis.uri()).out(), "get");
        assertEquals("invoice-42", got.path("key").asText());
        assertEquals(3, got.path("priority").asInt());
        assertEquals("WAITING", got.path("status").asText());

        long plain = harness.client.add(task, 1).id();
        JsonNode bare = Json.read(ok("get", task, Long.toString(plain), "--redis", TestRedis.uri()).out(), "get");
        assertFalse(bare.has("key"), bare.toString());
        assertEquals(0, bare.path("priority").asInt(-1), "priority is always printed: " + bare);
        List<String> names = new ArrayList<>();
        bare.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("id", "status", "current", "total", "message", "response", "task", "attempt", "args", "created_at",
                "priority"), names, "the fields as before, priority last");
    }
}
