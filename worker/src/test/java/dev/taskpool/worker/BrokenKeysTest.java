package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.Keys;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys broken by hand while a worker runs: a garbage entry in a queue is dropped on its own and
 * named in the log; a key of the wrong type stops that task kind's round trips with an error naming
 * the key, changes nothing (no task left RUNNING), and the worker goes on once the key is repaired.
 */
class BrokenKeysTest {
    @TempDir
    Path dir;

    private Harness open(String task) {
        TestApp app = TestApp.in(dir.resolve(task)).task(task, 2, 0, 0, 5, 100, "scripts.w.Work", "")
                .script("w", "function Work(id) { return 'ran ' + id; }");
        return Harness.open(app.dir());
    }

    @Test
    void garbageInTheQueueAndTheLeasesIsDroppedOnItsOwnAndNamed() {
        String task = TestRedis.uniqueTaskId("garbage-ids");
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

    @Test
    void aLeasesKeyOfTheWrongTypeStopsFetchesCleanlyUntilRepaired() {
        String task = TestRedis.uniqueTaskId("broken-leases");
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
}
