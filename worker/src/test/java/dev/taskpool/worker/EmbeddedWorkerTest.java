package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A Java application embeds a worker through the builder alone, with its own Java processes. */
class EmbeddedWorkerTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void anEmbeddedWorkerRunsJavaProcessesAndStopsGracefully() {
        String task = fixture.newTask("embedded");
        TestApp app = TestApp.in(dir).task(task, """
                {"name": "embedded", "worker_nums": 2, "attempts": 0, "attempt_after": 0, "timeout": 5, "size": 100,
                 "process": "models.shout.upper"}
                """);
        EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri(), app.dir())
                .process("models.shout.upper", args -> Map.of("id", args.get(0), "text", ((String) args.get(1)).toUpperCase()))
                .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                .start();
        try (TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            long id = ((Number) worker.call("tasks." + task + ".add", "hello")).longValue();
            TaskInfo done = client.await(task, id, Duration.ofSeconds(30));
            assertEquals(TaskStatus.SUCCESS, done.status(), "the embedded worker ran the task: " + done);
            assertEquals("HELLO", done.response().get("text").asText());
            assertEquals(id, done.response().get("id").asLong(), "the processor got the task id first");
            assertTrue(worker.workerId().length() > 0);
            worker.close();
            // Closed: its tasks are no longer taken (the add still lands, it waits).
            long waiting = client.add(task, "later").id();
            assertEquals(TaskStatus.WAITING, client.get(task, waiting).orElseThrow().status());
        } finally {
            worker.close();
        }
    }

    @Test
    void aBadAppFailsAtStartNamingTheFileAndOpensNothing() {
        TestApp app = TestApp.in(dir).task("broken", """
                {"name": "broken", "worker_nums": "many", "process": "models.x.y"}
                """);
        DefinitionException error = assertThrows(DefinitionException.class,
                () -> EmbeddedWorker.builder(TestRedis.uri(), app.dir()).process("models.x.y", args -> null).start());
        assertTrue(error.getMessage().contains("broken") && error.getMessage().contains("worker_nums"), error.getMessage());
    }
    /** Misuse after close: a second close does nothing, a call says the worker is closed (not an engine's words). */
    @Test
    void aClosedWorkerClosesTwiceQuietlyAndRefusesCallsByName() {
        String task = fixture.newTask("closed");
        TestApp app = TestApp.in(dir).task(task, """
                {"name": "closed", "worker_nums": 1, "attempts": 0, "attempt_after": 0, "timeout": 5, "size": 100,
                 "process": "models.x.y"}
                """);
        EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri(), app.dir()).process("models.x.y", args -> 1)
                .settings(s -> s.withShutdownGrace(Duration.ofMillis(200))).start();
        worker.close();
        worker.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> worker.call("tasks." + task + ".add", 1));
        assertEquals("embedded worker " + worker.workerId() + " is closed: tasks." + task + ".add cannot be called any more",
                closed.getMessage());
    }

    private static Path app(Path dir) {
        try {
            Files.writeString(dir.resolve("a-file.yao"), "{}");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aMissingAppDirectoryOrBadUriFailsAtStartNamingIt() {
        Path missing = dir.resolve("no-such-app");
        var noApp = assertThrows(TaskpoolException.class,
                () -> EmbeddedWorker.builder(TestRedis.uri(), missing).start());
        assertTrue(noApp.getMessage().contains(missing.toString()) && noApp.getMessage().contains("does not exist"),
                noApp.getMessage());
        Path file = app(dir).resolve("a-file.yao");
        var notADirectory = assertThrows(TaskpoolException.class,
                () -> EmbeddedWorker.builder(TestRedis.uri(), file).start());
        assertEquals("app directory " + file + " is not a directory (give the directory that holds tasks/)",
                notADirectory.getMessage());
        var badUri = assertThrows(TaskpoolException.class,
                () -> EmbeddedWorker.builder("nonsense://x", dir).start());
        assertTrue(badUri.getMessage().startsWith("invalid Redis URI 'nonsense://x'"), badUri.getMessage());
    }
    /**
     * A start that fails half-way (here Redis refuses the second task's connection: maxclients) leaves
     * nothing running: the first task's waiter and pump used to go on for ever, retrying every second
     * on connections already closed.
     */
    @Test
    void aStartThatFailsHalfWayLeavesNothingRunning() throws Exception {
        String first = fixture.newTask("halfa");
        String second = fixture.newTask("halfb");
        String definition = """
                {"name": "half", "worker_nums": 1, "attempts": 0, "attempt_after": 0, "timeout": 5, "size": 100,
                 "process": "models.x.y"}
                """;
        TestApp app = TestApp.in(dir).task(first, definition).task(second, definition);
        try (LocalRedis redis = LocalRedis.start();
             RedisConnector admin = RedisConnector.connect(redis.uri())) {
            var raw = admin.sync();
            long clients = raw.clientList().lines().filter(line -> !line.isBlank()).count();
            // The worker's own connection and the first task's blocking one; the second task's is refused.
            raw.configSet("maxclients", Long.toString(clients + 2));
            RuntimeException refused = assertThrows(RuntimeException.class, () -> EmbeddedWorker.builder(redis.uri(), app.dir())
                    .process("models.x.y", args -> 1).settings(s -> s.withShutdownGrace(Duration.ofMillis(200))).start());
            raw.configSet("maxclients", "10000");
            Wait.until("the half-started worker's threads are gone", Duration.ofSeconds(60),
                    () -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.isAlive()
                            && (t.getName().equals("wait-" + first) || t.getName().equals("wait-" + second))));
            long clientsAfter = raw.clientList().lines().filter(line -> !line.isBlank()).count();
            assertEquals(clients, clientsAfter, "the half-started worker closed every connection it opened (" + refused + ")");
        }
    }
    /**
     * Closing a worker while Redis is gone: each stop step that needs Redis says so in one line. The
     * presence step logged a 10-frame Lettuce stack trace for what is only "Redis is not there".
     */
    @Test
    void closingWhileRedisIsGoneLogsOneLinePerStepWithoutStackTraces() {
        String task = fixture.newTask("gone");
        TestApp app = TestApp.in(dir).task(task, """
                {"name": "gone", "worker_nums": 1, "attempts": 0, "attempt_after": 0, "timeout": 5, "size": 100,
                 "process": "models.x.y"}
                """);
        try (LocalRedis redis = LocalRedis.start(); LogCapture log = new LogCapture()) {
            EmbeddedWorker worker = EmbeddedWorker.builder(redis.uri(), app.dir()).process("models.x.y", args -> 1)
                    .commandTimeout(Duration.ofMillis(500)).settings(s -> s.withShutdownGrace(Duration.ofMillis(200))).start();
            redis.kill();
            worker.close();
            assertTrue(log.contains("stop step 'clear this worker's presence' failed"), "the failed step is named: " + log.lines());
            assertEquals(List.of(), log.linesWithStackTraces(), "no stack trace for Redis being away");
        }
    }
    /**
     * A heartbeat with no lease to extend has not reached Redis: it must not log "heartbeat works
     * again" while Redis is still away (it did, as soon as the last run left).
     */
    @Test
    void aHeartbeatWithNothingToSendDoesNotSayRedisWorksAgain() throws Exception {
        String task = fixture.newTask("beat");
        TestApp app = TestApp.in(dir).task(task, """
                {"name": "beat", "worker_nums": 1, "attempts": 0, "attempt_after": 0, "timeout": 30, "size": 100,
                 "process": "models.beat.hold"}
                """);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (LocalRedis redis = LocalRedis.start(); LogCapture log = new LogCapture()) {
            EmbeddedWorker worker = EmbeddedWorker.builder(redis.uri(), app.dir())
                    .process("models.beat.hold", args -> {
                        started.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return 1;
                    })
                    .commandTimeout(Duration.ofMillis(300))
                    .settings(s -> s.withLease(Duration.ofSeconds(1), Duration.ofMillis(200)).withShutdownGrace(Duration.ofMillis(200)))
                    .start();
            try {
                worker.call("tasks." + task + ".add");
                assertTrue(started.await(30, TimeUnit.SECONDS), "the run started");
                redis.kill();
                Wait.until("the heartbeat fails", Duration.ofSeconds(60), () -> log.contains("heartbeat failed"));
                release.countDown();
                // The result cannot be recorded: the run leaves after a lease period, and the heartbeat has nothing left.
                Wait.until("the run left", Duration.ofSeconds(60), () -> worker.runningCount() == 0);
                int beatsAfter = 5;
                Thread.sleep(Duration.ofMillis(200).multipliedBy(beatsAfter));
                assertTrue(!log.contains("heartbeat works again"), "Redis is still away: " + log.lines());
            } finally {
                release.countDown();
                worker.close();
            }
        }
    }
}
