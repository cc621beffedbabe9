package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's own files, unchanged (examples/seed): its task definition, its processor listing,
 * its handler listing and its usage example, run by a worker against a real Redis.
 */
class SeedExampleTest {
    @TempDir
    Path dir;
    private Path app;

    @BeforeEach
    void freshTasks() {
        app = TestApp.copyOfExample("seed", dir).dir();
        Harness.deleteTaskKeys("example", "test", "notify");
    }

    @Test
    void theSeedExampleRunsWithItsFilesUnchanged() {
        try (LogCapture logs = new LogCapture(); Harness worker = Harness.open(app)) {
            worker.startWorker();
            long id;
            try (Harness run = Harness.open(app)) {   // a fresh runtime, as `taskpool run` uses
                id = ((Number) run.call("tasks.example.add", "任务-1")).longValue();
            }
            assertEquals(1025, id);
            TaskInfo done = worker.await("example", id);
            assertEquals(TaskStatus.SUCCESS, done.status());

            try (Harness run = Harness.open(app)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> got = (Map<String, Object>) run.call("tasks.example.get", 1025);
                assertEquals(1025L, got.get("id"));
                assertEquals("SUCCESS", got.get("status"));
                assertEquals(1L, got.get("current"));
                assertEquals(100L, got.get("total"));
                assertEquals("Progress 1/100", got.get("message"));
                assertEquals(Map.of("message", "ok"), got.get("response"));
            }
            assertTrue(logs.contains("NextID: 1025"), logs.lines().toString());
            assertTrue(logs.contains("OnAdd: #1025"), logs.lines().toString());
            assertTrue(logs.contains("[\"任务-1\"]"), "console.log(args) of Send");
            assertTrue(logs.contains("OnProgress: #1025 Progress 1/100 1/100"), logs.lines().toString());
            assertTrue(logs.awaitContains("OnSuccess: #1025 {\"message\":\"ok\"}"), logs.lines().toString());
        }
    }

    @Test
    void theUsageExampleAdds99TasksInOneRuntimeAndAllSucceed() {
        try (LogCapture logs = new LogCapture(); Harness worker = Harness.open(app)) {
            worker.startWorker();
            try (Harness run = Harness.open(app)) {
                run.call("scripts.usage.task");
            }
            Pattern added = Pattern.compile("添加任务成功：(\\d+)");
            List<Long> ids = logs.lines().stream().map(added::matcher).filter(Matcher::find)
                    .map(m -> Long.parseLong(m.group(1))).toList();
            assertEquals(99, ids.size(), logs.lines().toString());
            for (int i = 0; i < 99; i++) {
                assertEquals(1025L + i, ids.get(i));
            }
            for (long id : ids) {
                assertEquals(TaskStatus.SUCCESS, worker.await("test", id).status(), "task test #" + id);
            }
        }
    }

    @Test
    void theHandlerListingFailsItsHandlersButNotItsTasks() {
        try (LogCapture logs = new LogCapture(); Harness worker = Harness.open(app)) {
            worker.startWorker();
            long id;
            try (Harness run = Harness.open(app)) {
                id = ((Number) run.call("tasks.notify.add", "hello")).longValue();
            }
            assertTrue(id > 1_000_000_000_000L, "NextID of the listing is a timestamp with a random suffix: " + id);
            TaskInfo done = worker.await("notify", id);
            assertEquals(TaskStatus.SUCCESS, done.status());
            assertEquals(Map.of("message", "ok"), Json.toJava(done.response()));
            assertTrue(logs.contains("Task #" + id + " created at"), "OnAdd ran up to its Process call");
            for (String event : List.of("add", "progress", "success")) {
                assertTrue(logs.awaitContains("task notify #" + id + ": event." + event + " handler scripts.handlers.On"),
                        event + " handler failure logged: " + logs.lines());
            }
            assertTrue(logs.contains("unknown process 'models.task.save'"));
        }
    }
}
