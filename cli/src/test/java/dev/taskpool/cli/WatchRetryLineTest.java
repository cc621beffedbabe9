package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A retry event names the run that failed; a worker's retry, which gives the task back to wait,
 * also says when the next run is due: watch shows "run 1 failed, next in 5s: boom". The
 * recoverer's retry (a lost run, requeued at once) has no due time.
 */
class WatchRetryLineTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aRetryLineNamesTheFailedRunAndWhenTheNextIsDue() throws Exception {
        String task = TestRedis.uniqueTaskId("retryline");
        String redis = TestRedis.uri();
        TestApp app = TestApp.in(dir).task(task, 1, 2, 5000, 10, 100, "scripts.r.Work", "")
                .script("r", "function Work(id) { return 1; }");
        try (Harness harness = Harness.open(app.dir());
             RedisConnector connector = RedisConnector.connect(redis)) {
            long id = harness.add(task);   // (no worker: the events below are the test's)
            Keys keys = Keys.of(task);
            CompletableFuture<Result> one = CompletableFuture.supplyAsync(
                    () -> execute("watch", task, Long.toString(id), "--for", "90s", "--redis", redis));
            WatchListening.awaitChannel(connector, keys.events(id), one, WAIT);
            long at = System.currentTimeMillis();
            var retry = TaskEvent.message(TaskEvent.RETRY, task, id, TaskStatus.WAITING, at);
            retry.put("attempt", 1);
            retry.put("error", "boom");
            retry.put("due_at", at + 5000);
            var lost = TaskEvent.message(TaskEvent.RETRY, task, id, TaskStatus.WAITING, at + 6000);
            lost.put("attempt", 2);
            lost.put("error", "lease expired");
            var failure = TaskEvent.message(TaskEvent.FAILURE, task, id, TaskStatus.FAILURE, at + 7000);
            failure.put("attempt", 3);
            failure.put("error", "boom again");
            for (var message : List.of(retry, lost, failure)) {
                connector.sync().publish(keys.events(id), message.toString());
            }
            Result watched = one.get(120, TimeUnit.SECONDS);
            assertEquals(0, watched.code(), watched.err());
            assertTrue(watched.out().contains(" retry run 1 failed, next in 5s: boom"), watched.out());
            assertTrue(watched.out().contains(" retry run 2 failed: lease expired"), watched.out());
        }
    }
}
