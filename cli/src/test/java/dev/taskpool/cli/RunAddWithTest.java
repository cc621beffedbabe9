package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code taskpool run tasks.<id>.addWith '{"delay":3000}' '"a"'}: a delayed add from the command line. */
class RunAddWithTest {
    @TempDir
    Path dir;

    @Test
    void runAddsADelayedTaskAndRefusesBadOptionsOnOneLine() {
        String task = TestRedis.uniqueTaskId("cli-delayed");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.cli.Echo", "")
                .script("cli", "function Echo(a) { return a; }");
        String redis = TestRedis.uri();
        Result added = execute("run", "tasks." + task + ".addWith", "{\"delay\":3000}", "\"a\"", "--app", app.dir().toString(),
                "--redis", redis);
        assertEquals(0, added.code(), added.err());
        assertEquals("1", added.out());
        Keys keys = Keys.of(task);
        try (RedisConnector connector = RedisConnector.connect(redis)) {
            var raw = connector.sync();
            long due = Long.parseLong(raw.hget(keys.task(1), "due_at"));
            long created = Long.parseLong(raw.hget(keys.task(1), "created_at"));
            assertEquals(created + 3000, due);
            assertEquals(due, raw.zscore(keys.delayed(), "1"));

            Result bad = execute("run", "tasks." + task + ".addWith", "{\"delay\":\"soon\"}", "\"a\"", "--app", app.dir().toString(),
                    "--redis", redis);
            assertEquals(1, bad.code());
            assertTrue(bad.err().contains("add option delay must be a whole number of ms, got 'soon' (a string); nothing was added"),
                    bad.err());
            assertEquals(1, raw.zcard(keys.delayed()), "nothing more was written");

            try (Harness harness = Harness.open(app.dir())) {
                harness.startWorker();
                TaskInfo done = harness.await(task, 1);
                assertEquals(TaskStatus.SUCCESS, done.status());
                assertTrue(done.startedAt() >= due);
            }
        }
        Harness.deleteTaskKeys(task);
    }
}
