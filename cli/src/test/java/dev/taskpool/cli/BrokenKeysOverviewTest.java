package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.dashboard.DashboardServer;
import dev.taskpool.dashboard.DashboardSettings;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The operator's overview while keys are broken by hand (the cases of BrokenKeysTest, seen from
 * {@code taskpool stats}, {@code taskpool watch} and the dashboard's {@code /api/overview}): one kind's key of the wrong
 * type, a presence record that is no JSON, a name in {@code taskpool:tasks} that is no kind. The
 * broken part is named (key and what it holds) in its place; every other kind and the live worker
 * are still shown. On a Redis of its own: the registry and the presence keys are shared by all kinds.
 */
class BrokenKeysOverviewTest {
    /** Kinds of the app, one per key a case breaks; no worker serves them. */
    private static final List<String> KEYS = List.of("stats", "waiting", "delayed", "failed", "succeeded", "leases", "paused",
            "def", "flow", "rate", "priority");
    private static final String GOOD = TestRedis.uniqueTaskId("overview.good");

    @TempDir
    static Path dir;
    static LocalRedis redis;
    static Harness serving;
    static Harness idle;
    static RedisConnector connector;
    static DashboardServer dashboard;
    static RedisClusterCommands<String, String> raw;
    static String workerId;
    static final HttpClient http = HttpClient.newHttpClient();

    private static String kind(String key) {
        return "overview." + key;
    }

    @BeforeAll
    static void start() {
        redis = LocalRedis.start();
        TestApp good = TestApp.in(dir.resolve("good")).task(GOOD, 1, 0, 0, 10, 100, "scripts.ov.Work", "")
                .script("ov", "function Work(id, n) { return n; }");
        serving = Harness.open(good.dir(), new ProcessRegistry(), redis.uri());
        workerId = serving.startWorker().settings().workerId();
        assertEquals(TaskStatus.SUCCESS, serving.await(GOOD, serving.add(GOOD, 1)).status());
        TestApp kinds = TestApp.in(dir.resolve("kinds")).script("ov", "function Work(id, n) { return n; }");
        KEYS.forEach(key -> kinds.task(kind(key), 1, 0, 0, 10, 100, "scripts.ov.Work", ""));
        idle = Harness.open(kinds.dir(), new ProcessRegistry(), redis.uri());
        connector = RedisConnector.connect(redis.uri());
        raw = connector.sync();
        dashboard = new DashboardServer(connector, new TaskOperations(connector), DashboardSettings.loopback(0));
        Wait.until("the worker's presence is recorded", Duration.ofSeconds(30),
                () -> raw.zscore(Keys.WORKERS, workerId) != null);
    }

    @AfterAll
    static void stop() {
        if (dashboard != null) dashboard.close();
        if (connector != null) connector.close();
        if (idle != null) idle.close();
        if (serving != null) serving.close();
        if (redis != null) redis.close();
    }

    /** Puts a value of the wrong type at {@code key} of {@code kind(key)}; returns the key. */
    private static String breakKey(String key, String held) {
        Keys keys = Keys.of(kind(key));
        String name = switch (key) {
            case "stats" -> keys.stats();
            case "waiting" -> keys.waiting();
            case "delayed" -> keys.delayed();
            case "failed" -> keys.failed();
            case "succeeded" -> keys.succeeded();
            case "leases" -> keys.leases();
            case "paused" -> keys.paused();
            case "def" -> keys.definition();
            case "flow" -> keys.flow();
            case "rate" -> keys.rate();
            case "priority" -> keys.waiting(2);
            default -> throw new IllegalArgumentException(key);
        };
        if (key.equals("rate")) {
            raw.hset(keys.flow(), Map.of("rate_limit", "1", "rate_per", "1000"));   // a kind without a rate never reads its window
        }
        raw.del(name);
        if (held.equals("string")) {
            raw.set(name, "garbage");
        } else {
            raw.hset(name, "garbage", "1");
        }
        return name;
    }

    private static void repair(String key) {
        Keys keys = Keys.of(kind(key));
        raw.del(keys.stats(), keys.waiting(), keys.delayed(), keys.failed(), keys.succeeded(), keys.leases(), keys.paused(),
                keys.flow(), keys.rate(), keys.waiting(2));
        if (key.equals("def")) {
            raw.del(keys.definition());
            raw.hset(keys.definition(), "keep", "86400");
        }
    }

    private static Result stats(String... extra) {
        List<String> args = new ArrayList<>(List.of("stats", "--redis", redis.uri()));
        args.addAll(List.of(extra));
        return execute(args.toArray(String[]::new));
    }

    private static JsonNode overview() {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(dashboard.url() + "api/overview"))
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), "the overview answers: " + response.body());
            return Json.read(response.body(), "/api/overview");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static JsonNode kindIn(JsonNode overview, String task) {
        for (JsonNode node : overview.path("kinds")) {
            if (node.path("task").asText().equals(task)) {
                return node;
            }
        }
        throw new AssertionError("no kind " + task + " in " + overview);
    }

    /** The table row of {@code task} (its first column). */
    private static String rowOf(String table, String task) {
        return table.lines().filter(line -> line.startsWith(task + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + task + " in:\n" + table));
    }

    /** Everything else is shown: the good kind with its counts, every other kind, the live worker. */
    private static void assertTheRestIsShownInTheTable(String table, String broken) {
        // TASK READY DELAYED RUNNING SUCCEEDED
        assertEquals(List.of(GOOD, "0", "0", "0", "1"), List.of(rowOf(table, GOOD).trim().split("\\s+")).subList(0, 5),
                "the good kind's counts:\n" + table);
        for (String key : KEYS) {
            if (!kind(key).equals(broken)) {
                assertTrue(rowOf(table, kind(key)).contains(" no "), "kind " + kind(key) + " is read:\n" + table);
            }
        }
        assertTrue(table.lines().anyMatch(line -> line.startsWith(workerId + " ") && line.contains(GOOD)),
                "the live worker:\n" + table);
    }

    private static void assertTheRestIsShownInJson(JsonNode overview, String broken) {
        assertEquals(1, kindIn(overview, GOOD).path("succeededTotal").asLong(), "the good kind's counts: " + overview);
        for (String key : KEYS) {
            if (!kind(key).equals(broken)) {
                JsonNode row = kindIn(overview, kind(key));
                assertTrue(row.path("error").isMissingNode() && row.has("waiting"), "kind " + kind(key) + " is read: " + row);
            }
        }
        assertEquals(List.of(workerId), overview.path("workers").findValuesAsText("id"), "the live worker: " + overview);
    }

    @ParameterizedTest(name = "stats with {0} holding a {1}")
    @CsvSource({"stats, string, a hash", "waiting, string, a list", "delayed, string, a sorted set",
            "failed, string, a sorted set",
            "succeeded, string, a list", "leases, string, a sorted set", "paused, hash, a string", "def, string, a hash",
            "flow, string, a hash", "rate, string, a sorted set", "priority, string, a list"})
    void statsShowsAKindWithAKeyOfTheWrongTypeAsARowNamingTheKey(String key, String held, String expected) {
        String name = breakKey(key, held);
        try {
            String error = name + " holds a " + held + ", expected " + expected;
            Result table = stats();
            assertEquals(StatsCommand.INCOMPLETE, table.code(), "shown, but not all of it: " + table.err());
            assertEquals("taskpool: 1 part(s) of the overview could not be read (the ERROR rows and problem lines); the"
                    + " rest is shown", table.err().strip());
            assertTrue(rowOf(table.out(), kind(key)).contains("ERROR " + error), "the broken kind's row:\n" + table.out());
            assertTheRestIsShownInTheTable(table.out(), kind(key));

            Result json = stats("--json");
            assertEquals(StatsCommand.INCOMPLETE, json.code(), json.err());
            JsonNode overview = Json.read(json.out(), "stats --json");
            assertTrue(kindIn(overview, kind(key)).path("error").asText().startsWith(error), overview.toString());
            assertTheRestIsShownInJson(overview, kind(key));
        } finally {
            repair(key);
        }
        assertEquals(0, stats().code(), "repaired: everything is read again");
    }

    @ParameterizedTest(name = "the dashboard with {0} holding a {1}")
    @CsvSource({"stats, string, a hash", "waiting, string, a list", "delayed, string, a sorted set",
            "failed, string, a sorted set",
            "succeeded, string, a list", "leases, string, a sorted set", "paused, hash, a string", "def, string, a hash",
            "flow, string, a hash", "rate, string, a sorted set", "priority, string, a list"})
    void theDashboardOverviewShowsAKindWithAKeyOfTheWrongTypeAsARowNamingTheKey(String key, String held, String expected) {
        String name = breakKey(key, held);
        try {
            JsonNode overview = overview();
            assertTrue(kindIn(overview, kind(key)).path("error").asText().startsWith(name + " holds a " + held
                    + ", expected " + expected), overview.toString());
            assertTheRestIsShownInJson(overview, kind(key));
        } finally {
            repair(key);
        }
    }

    @ParameterizedTest(name = "a presence record holding {0}")
    @CsvSource(delimiter = '|', value = {"not json|holds no JSON presence record", "hash|holds a hash, expected a string"})
    void aBrokenPresenceRecordIsSkippedWithANoteAndTheLiveWorkersAreShown(String content, String named) {
        String key = Keys.worker("broken-by-hand");
        raw.zadd(Keys.WORKERS, System.currentTimeMillis(), "broken-by-hand");
        if (content.equals("hash")) {
            raw.hset(key, "id", "broken-by-hand");
        } else {
            raw.set(key, content);
        }
        try {
            Result table = stats();
            assertEquals(StatsCommand.INCOMPLETE, table.code(), table.err());
            assertTrue(table.out().lines().anyMatch(line -> line.startsWith("problem: " + key + " " + named)
                    && line.endsWith("skipped")), "the skipped entry is named:\n" + table.out());
            assertTheRestIsShownInTheTable(table.out(), null);
            JsonNode json = Json.read(stats("--json").out(), "stats --json");
            assertTheRestIsShownInJson(json, null);
            assertTrue(json.path("problems").get(0).asText().startsWith(key + " " + named), json.toString());

            JsonNode overview = overview();
            assertTheRestIsShownInJson(overview, null);
            assertTrue(overview.path("problems").get(0).asText().startsWith(key + " " + named), overview.toString());
        } finally {
            raw.del(key);
            raw.zrem(Keys.WORKERS, "broken-by-hand");
        }
    }

    @Test
    void aNameInTheRegistryThatIsNoKindIsARowSayingSo() {
        String name = "no kind";
        raw.sadd(Keys.TASK_REGISTRY, name);
        try {
            String error = Keys.TASK_REGISTRY + " holds 'no kind', which is no task kind name";
            Result table = stats();
            assertEquals(StatsCommand.INCOMPLETE, table.code(), table.err());
            assertTrue(rowOf(table.out(), name).contains("ERROR " + error), table.out());
            assertTheRestIsShownInTheTable(table.out(), name);
            JsonNode json = Json.read(stats("--json").out(), "stats --json");
            assertTrue(kindIn(json, name).path("error").asText().startsWith(error), json.toString());

            JsonNode overview = overview();
            assertTrue(kindIn(overview, name).path("error").asText().startsWith(error), overview.toString());
            assertTheRestIsShownInJson(overview, name);
            assertNotNull(overview.get("readOnly"), "the dashboard's settings are still there: " + overview);
        } finally {
            raw.srem(Keys.TASK_REGISTRY, name);
        }
    }

    /**
     * {@code watch} (every kind) with one kind's {@code waiting} key holding a string: that kind is
     * a line naming the key, the good kind's counts are shown, and the watch goes on: once the key
     * is repaired the kind's counts follow, and it stops after the event it was asked to wait for.
     */
    @Test
    void watchShowsABrokenKindAsALineNamingTheKeyAndGoesOnWithTheOthers() throws Exception {
        String error = breakKey("waiting", "string") + " holds a string, expected a list";
        String broken = kind("waiting");
        ByteArrayOutputStream live = new ByteArrayOutputStream();
        try {
            CompletableFuture<Result> watching = CompletableFuture.supplyAsync(() -> execute(live,
                    "watch", "--refresh", "100ms", "--events", "1", "--for", "120s", "--redis", redis.uri()));
            awaitLine(live, watching, line -> line.contains(" counts " + broken + ": ERROR " + error));
            awaitLine(live, watching, line -> line.endsWith(" counts " + GOOD + ": waiting 0, running 0, succeeded 1, failed 0,"
                    + " retried 0, canceled 0"));
            repair("waiting");
            awaitLine(live, watching, line -> line.endsWith(" counts " + broken + ": waiting 0, running 0, succeeded 0, failed 0,"
                    + " retried 0, canceled 0"));
            raw.publish(Keys.of(GOOD).events(4242), TaskEvent.message(TaskEvent.ADDED, GOOD, 4242, null,
                    System.currentTimeMillis()).toString());
            Result result = watching.get(150, TimeUnit.SECONDS);
            assertEquals(0, result.code(), "the watch went on until its one event: " + result.err() + "\n" + result.out());
            assertTrue(result.out().lines().anyMatch(line -> line.endsWith(" " + GOOD + " #4242 added")), result.out());
            for (String key : KEYS) {
                assertTrue(result.out().lines().anyMatch(line -> line.contains(" counts " + kind(key) + ": waiting 0, running 0,")),
                        "kind " + kind(key) + " is read:\n" + result.out());
            }
        } finally {
            repair("waiting");
        }
    }

    /** {@code watch TASK --json} of the broken kind: a JSON line with the error, and it goes on watching. */
    @Test
    void watchOfTheBrokenKindPrintsItsErrorAsAJsonLineAndGoesOn() throws Exception {
        String error = breakKey("failed", "string") + " holds a string, expected a sorted set";
        String broken = kind("failed");
        ByteArrayOutputStream live = new ByteArrayOutputStream();
        try {
            CompletableFuture<Result> watching = CompletableFuture.supplyAsync(() -> execute(live,
                    "watch", broken, "--json", "--refresh", "100ms", "--events", "1", "--for", "120s", "--redis", redis.uri()));
            awaitLine(live, watching, line -> {
                JsonNode node = Json.read(line, "a line of watch --json");
                return node.path("event").asText().equals("counts") && node.path("task").asText().equals(broken)
                        && node.path("error").asText().startsWith(error) && !node.has("waiting");
            });
            repair("failed");
            awaitLine(live, watching, line -> {
                JsonNode node = Json.read(line, "a line of watch --json");
                return node.path("event").asText().equals("counts") && node.path("task").asText().equals(broken)
                        && !node.has("error") && node.path("waiting").asLong(-1) == 0;
            });
            raw.publish(Keys.of(broken).events(4243), TaskEvent.message(TaskEvent.ADDED, broken, 4243, null,
                    System.currentTimeMillis()).toString());
            Result result = watching.get(150, TimeUnit.SECONDS);
            assertEquals(0, result.code(), "the watch went on until its one event: " + result.err() + "\n" + result.out());
            assertTrue(result.out().lines().anyMatch(line -> line.contains("\"id\":4243") && line.contains("\"added\"")),
                    result.out());
        } finally {
            repair("failed");
        }
    }

    /** Waits until a line that {@code watching} printed matches; fails at once if it ended first. */
    private static void awaitLine(ByteArrayOutputStream live, CompletableFuture<Result> watching, Predicate<String> wanted) {
        Wait.until("a line of the watch", Duration.ofSeconds(60), () -> {
            if (watching.isDone()) {
                throw new AssertionError("the watch ended: " + watching.join());
            }
            return live.toString(StandardCharsets.UTF_8).lines().anyMatch(wanted);
        });
    }
}
