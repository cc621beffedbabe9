package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code taskpool run schedules.<id>.Stop|Start|Trigger}: the schedule processes from the command line. */
class ScheduleRunTest {
    @TempDir
    Path dir;

    private final RedisConnector redis = RedisConnector.connect(TestRedis.uri());
    private final String task = TestRedis.uniqueTaskId("schedrun");
    private final String id = task + "-nightly";

    @AfterEach
    void removeWhatTheTestWrote() {
        new ScheduleOperations(redis).remove(id);
        redis.sync().del(Keys.of(task).definition());
        redis.sync().srem(Keys.TASK_REGISTRY, task);
        redis.close();
    }

    @Test
    void stopStartAndTriggerFromTheCommandLine() {
        Path app = TestApp.in(dir).task(task, 1, 0, 0, 5, 10, "scripts.s.Run", "")
                .script("s", "function Run() { return 1; }")
                .write("schedules/" + id + ".sch.yao", """
                        {"name": "Nightly", "schedule": "0 3 * * *", "timezone": "Europe/Paris", "task": "%s"}""".formatted(task))
                .dir();
        String[] where = {"--app", app.toString(), "--redis", TestRedis.uri()};
        CliRun.Result stop = execute(with(where, "run", "schedules." + id + ".Stop"));
        assertEquals(0, stop.code(), stop.err());
        ScheduleOperations operations = new ScheduleOperations(redis);
        assertTrue(operations.get(id).orElseThrow().stopped(), "published by the run's runtime, then stopped");
        assertEquals(0, execute(with(where, "run", "schedules." + id + ".Start")).code());
        assertFalse(operations.get(id).orElseThrow().stopped());
        assertEquals(0, execute(with(where, "run", "schedules." + id + ".Trigger")).code());
        assertTrue(redis.sync().hget(Keys.of(task).schedule(id), "trigger_at") != null, "a firing is pending");
        CliRun.Result unknown = execute(with(where, "run", "schedules.nope.Stop"));
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("no schedule 'nope' in Redis"), unknown.err());
    }

    private static String[] with(String[] where, String... command) {
        String[] all = new String[command.length + where.length];
        System.arraycopy(command, 0, all, 0, command.length);
        System.arraycopy(where, 0, all, command.length, where.length);
        return all;
    }
}
