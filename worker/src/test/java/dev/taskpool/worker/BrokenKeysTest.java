package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.KindOverview;
import dev.taskpool.core.ops.Overview;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Keys broken by hand while a worker runs: a garbage entry in a queue is dropped on its own and
 * named in the log; a key of the wrong type stops that task kind's round trips with an error naming
 * the key, changes nothing (no task left RUNNING), and the worker goes on once the key is repaired.
 * The kind-wide gauges of the other kinds go on refreshing meanwhile.
 */
class BrokenKeysTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    private Harness open(String task) {
        TestApp app = TestApp.in(dir.resolve(task)).task(task, 2, 0, 0, 5, 100, "scripts.w.Work", "")
                .script("w", "function Work(id) { return 'ran ' + id; }");
        return Harness.open(app.dir());
    }

    @Test
    void garbageInTheQueueAndTheLeasesIsDroppedOnItsOwnAndNamed() {
        String task = fixture.newTask("garbage-ids");
        try (Harness harness = open(task); LogCapture log = new LogCapture()) {
            Keys keys = Keys.of(task);
            var raw = harness.redis.sync();
            List<Long> ids = new ArrayList<>();
            ids.add(harness.client.add(task).id());
            raw.lpush(keys.waiting(), "abc");
            raw.zadd(keys.leases(), 1, "xyz");
            ids.add(harness.client.add(task).id());
            harness.startWorker();
            for (long id : ids) {
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status(), "task #" + id);
            }
            Wait.until("the garbage lease is removed by the recoverer", Duration.ofSeconds(60),
                    () -> raw.zscore(keys.leases(), "xyz") == null);
            Wait.until("the log names both garbage entries", Duration.ofSeconds(60),
                    () -> log.contains("dropped 'abc' from the waiting queue: not a task id")
                            && log.contains("removed 'xyz' from the running leases: not a task id"));
            // and the kind goes on working
            assertEquals(TaskStatus.SUCCESS, harness.await(task, harness.client.add(task).id()).status());
        }
    }

    /**
     * What operators read ({@code client.operations().overview()}, behind {@code taskpool stats} and
     * the dashboard; their own tests are BrokenKeysOverviewTest in the cli module): a kind with a key of
     * the wrong type is a row naming the key and what it holds, and another kind is still read.
     */
    @ParameterizedTest(name = "{0} holding a {1}")
    @CsvSource({"stats, string, a hash", "waiting, string, a list", "failed, string, a sorted set",
            "succeeded, string, a list", "leases, string, a sorted set", "paused, hash, a string", "def, string, a hash"})
    void theOverviewNamesAKindKeyOfTheWrongTypeAndReadsTheOtherKinds(String key, String held, String expected) {
        String broken = fixture.newTask("broken-" + key);
        String other = fixture.newTask("readable");
        TestApp app = TestApp.in(dir).task(broken, 1, 0, 0, 5, 100, "scripts.w.Work", "")
                .task(other, 1, 0, 0, 5, 100, "scripts.w.Work", "")
                .script("w", "function Work(id) { return 'ran ' + id; }");
        try (Harness harness = Harness.open(app.dir())) {
            harness.client.add(other);
            Keys keys = Keys.of(broken);
            String name = switch (key) {
                case "stats" -> keys.stats();
                case "waiting" -> keys.waiting();
                case "failed" -> keys.failed();
                case "succeeded" -> keys.succeeded();
                case "leases" -> keys.leases();
                case "paused" -> keys.paused();
                default -> keys.definition();
            };
            var raw = harness.redis.sync();
            raw.del(name);
            if (held.equals("string")) {
                raw.set(name, "garbage");
            } else {
                raw.hset(name, "garbage", "1");
            }
            try {
                Overview overview = new TaskOperations(harness.redis).overview();
                Map<String, KindOverview> rows = new HashMap<>();
                overview.kinds().forEach(row -> rows.put(row.task(), row));
                assertEquals(name + " holds a " + held + ", expected " + expected,
                        rows.get(broken).error().replaceFirst(" \\(of the SUCCESS tasks; written by hand\\?\\)$", ""));
                assertNull(rows.get(broken).stats());
                assertNull(rows.get(other).error(), "the other kind is read");
                assertEquals(1, rows.get(other).stats().waiting());
                assertFalse(overview.complete());
            } finally {
                raw.del(name);   // the test Redis is shared: no other test meets this key broken
            }
        }
    }

    @Test
    void aLeasesKeyOfTheWrongTypeStopsFetchesCleanlyUntilRepaired() {
        String task = fixture.newTask("broken-leases");
        try (Harness harness = open(task); LogCapture log = new LogCapture()) {
            Keys keys = Keys.of(task);
            var raw = harness.redis.sync();
            raw.set(keys.leases(), "garbage");
            harness.startWorker();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(harness.client.add(task).id());
            }
            Wait.until("a fetch is refused naming the key", Duration.ofSeconds(60),
                    () -> log.contains(keys.leases() + " holds a string, expected a sorted set; nothing was changed"));
            for (long id : ids) {
                assertEquals(TaskStatus.WAITING, harness.client.get(task, id).orElseThrow().status(),
                        "task #" + id + " was not half-fetched");
            }
            raw.del(keys.leases());
            for (long id : ids) {
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status(), "task #" + id + " ran after the repair");
            }
        }
    }

    /**
     * A worker serving two kinds, one with its {@code waiting} key broken by hand: the other kind's
     * gauges ({@code taskpool_queue_waiting} once scraped) still follow Redis, the broken kind's are
     * NaN and its key is named in the log; once repaired, it has numbers again.
     */
    @Test
    void theGaugesOfTheOtherKindsRefreshWhileOneKindIsBroken() {
        String broken = fixture.newTask("gauges-broken");
        String other = fixture.newTask("gauges-other");
        TestApp app = TestApp.in(dir).task(broken, 1, 0, 0, 5, 100, "scripts.w.Work", "")
                .task(other, 1, 0, 0, 5, 100, "scripts.w.Work", "")
                .script("w", "function Work(id) { return 'ran ' + id; }");
        MeterRegistry meters = new SimpleMeterRegistry();
        Keys keys = Keys.of(broken);
        try (LogCapture log = new LogCapture();
             RedisConnector connector = RedisConnector.connect(TestRedis.uri());
             EmbeddedWorker ignored = EmbeddedWorker.builder(TestRedis.uri(), app.dir()).meterRegistry(meters)
                     .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2))).start();
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            var raw = connector.sync();
            raw.set(keys.waiting(), "garbage");
            try {
                client.operations().pause(other, "gauges-test");   // what is added waits: the gauge has a number to follow
                for (int i = 0; i < 3; i++) {
                    client.add(other);
                }
                Wait.until("the other kind's gauges follow Redis", Duration.ofSeconds(60),
                        () -> gauge(meters, "taskpool.queue.waiting", other) == 3 && gauge(meters, "taskpool.queue.paused", other) == 1);
                assertTrue(Double.isNaN(gauge(meters, "taskpool.queue.waiting", broken)), "no number for the broken kind");
                assertTrue(log.awaitContains("metrics: reading the counts of kind " + broken + " from Redis failed (its gauges are"
                        + " NaN meanwhile): " + keys.waiting() + " holds a string, expected a list"), log.lines().toString());
            } finally {
                raw.del(keys.waiting());
            }
            Wait.until("the repaired kind has numbers again", Duration.ofSeconds(60),
                    () -> gauge(meters, "taskpool.queue.waiting", broken) == 0);
            client.operations().resume(other, "gauges-test");
        }
    }

    private static double gauge(MeterRegistry meters, String name, String task) {
        return meters.get(name).tag("task", task).gauge().value();
    }
}
