package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.worker.exec.Worker;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Closing a worker never leaves a task RUNNING: unfinished runs go back to the queue. */
class GracefulStopTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void closeLetsQuickRunsFinishAndHandsUnfinishedTasksBack() {
        String task = fixture.newTask("long");
        TestApp app = TestApp.in(dir)
                .task(task, 2, 0, 0, 60, 10, "scripts.long.Work", "")
                .script("long", """
                        function Work(id, ms) { Process('utils.time.Sleep', ms); return 'slept ' + ms; }
                        """);
        try (Harness harness = Harness.open(app.dir())) {
            Worker first = harness.startWorker();
            long quick = harness.add(task, 200);
            long slow = harness.add(task, 30000);
            RetryAndFailureTest.waitFor(() -> harness.client.get(task, slow).orElseThrow().status() == TaskStatus.RUNNING);
            first.close();   // grace is 2 s: the quick task finishes, the slow one is handed back

            assertEquals(TaskStatus.SUCCESS, harness.client.get(task, quick).orElseThrow().status());
            TaskInfo handedBack = harness.client.get(task, slow).orElseThrow();
            assertEquals(TaskStatus.WAITING, handedBack.status());
            assertEquals(0, handedBack.attempt(), "the interrupted run does not count");
            assertTrue(handedBack.worker() == null);
        }
    }
}
