package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Events of one task can reach watch out of order (a progress published just before another, or
 * before the task's end, arriving after it). watch once drew 20/20 and then 18/20: a bar never
 * goes back within a run, and a finished task stays finished.
 */
class WatchOrderTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static String progress(String task, long id, long current, long total) {
        var event = TaskEvent.message(TaskEvent.PROGRESS, task, id, null, System.currentTimeMillis());
        event.put("current", current);
        event.put("total", total);
        event.put("message", "at " + current);
        return event.toString();
    }

    private static String event(String name, String task, long id) {
        var event = TaskEvent.message(name, task, id, null, System.currentTimeMillis());
        if (name.equals(TaskEvent.STARTED)) {
            event.put("attempt", 1);
            event.put("worker", "w1");
        }
        return event.toString();
    }

    @Test
    void aProgressArrivingLateNeverMovesTheBarBackOrRevivesAFinishedTask() throws Exception {
        String task = TestRedis.uniqueTaskId("order");
        String redis = TestRedis.uri();
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 10, 100, "scripts.o.Work", "")
                .script("o", "function Work(id) { return 1; }");
        try (Harness harness = Harness.open(app.dir());
             RedisConnector connector = RedisConnector.connect(redis)) {
            long id = harness.add(task);   // (no worker: it stays WAITING; the events below are the test's)
            Keys keys = Keys.of(task);

            // one task: its state, then its events until it ends
            CompletableFuture<Result> one = CompletableFuture.supplyAsync(
                    () -> execute("watch", task, Long.toString(id), "--for", "90s", "--redis", redis));
            WatchListening.awaitChannel(connector, keys.events(id), one, WAIT);
            for (String message : List.of(event(TaskEvent.STARTED, task, id), progress(task, id, 20, 20),
                    progress(task, id, 18, 20), event(TaskEvent.SUCCESS, task, id))) {
                connector.sync().publish(keys.events(id), message);
            }
            Result watched = one.get(120, TimeUnit.SECONDS);
            assertEquals(0, watched.code(), watched.err());
            assertTrue(watched.out().contains("20/20 at 20"), watched.out());
            assertTrue(!watched.out().contains("18/20"), "the bar went back:\n" + watched.out());

            // a kind: the same, and a progress after the end is not shown either
            Set<String> listening = WatchListening.patternSubscribers(redis);
            CompletableFuture<Result> kind = CompletableFuture.supplyAsync(
                    () -> execute("watch", task, "--events", "4", "--for", "90s", "--redis", redis));
            WatchListening.awaitPatterns(redis, listening, kind, WAIT);   // watch TASK listens to every kind's patterns
            for (String message : List.of(event(TaskEvent.STARTED, task, id), progress(task, id, 20, 20),
                    progress(task, id, 18, 20), event(TaskEvent.SUCCESS, task, id), progress(task, id, 19, 20),
                    event(TaskEvent.ADDED, task, id + 1))) {
                connector.sync().publish(keys.events(id), message);
            }
            Result kindWatched = kind.get(120, TimeUnit.SECONDS);
            assertEquals(0, kindWatched.code(), kindWatched.err());
            List<String> events = kindWatched.out().lines().filter(line -> line.contains(task + " #")).toList();
            assertEquals(4, events.size(), kindWatched.out());
            assertTrue(events.get(0).contains(" started ") && events.get(1).contains(" progress ")
                    && events.get(1).contains("20/20") && events.get(2).contains(" success")
                    && events.get(3).contains("#" + (id + 1) + " added"), kindWatched.out());
        }
    }
}
