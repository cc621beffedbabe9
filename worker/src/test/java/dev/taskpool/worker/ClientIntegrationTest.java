package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.TestRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The thin Java client (no script engine, no app directory) against a worker. */
class ClientIntegrationTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void addGetAndAwaitFromAThinClient() {
        String task = fixture.newTask("thin");
        TestApp app = TestApp.in(dir)
                .task(task, 2, 0, 0, 5, 100, "scripts.thin.Greet", "")
                .script("thin", "function Greet(id, who, times) { Process('utils.time.Sleep', 100); return { hello: who, times: times }; }");
        try (Harness harness = Harness.open(app.dir());
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            harness.startWorker();
            AddResult added = client.add(task, "Ada", 3);
            assertTrue(added.id() > 0);
            TaskInfo info = client.await(task, added.id(), Duration.ofSeconds(20));
            assertEquals(TaskStatus.SUCCESS, info.status());
            assertEquals("Ada", info.response().get("hello").asText());
            assertEquals(3, info.response().get("times").asInt());
            assertEquals(info, client.get(task, added.id()).orElseThrow());

            TaskpoolException timeout = assertThrows(TaskpoolException.class,
                    () -> client.await(task, client.add(task, "Bob", 1).id(), Duration.ofMillis(20)));
            assertTrue(timeout.getMessage().contains("did not finish within 20ms"), timeout.getMessage());

            UnknownTaskException unknown = assertThrows(UnknownTaskException.class, () -> client.await(task, 987654, Duration.ofSeconds(1)));
            assertTrue(unknown.getMessage().contains("#987654 does not exist"));
        }
    }

    @Test
    void aThinClientRefusesScriptEventsItCannotRunUnlessGivenJavaHandlers() {
        String task = fixture.newTask("scripted");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 100, "scripts.s.Run", """
                        "event": {"next": "scripts.s.Next", "add": "scripts.s.OnAdd"}""")
                .script("s", "var n = 0; function Run(id) { return id; } function Next() { return ++n; } function OnAdd(id) {}");
        try (Harness harness = Harness.open(app.dir());
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            harness.startWorker();
            TaskpoolException next = assertThrows(TaskpoolException.class, () -> client.add(task, "x"));
            assertTrue(next.getMessage().contains("takes its ids from event.next = scripts.s.Next"), next.getMessage());
            assertTrue(next.getMessage().contains("withIdSupplier"), next.getMessage());

            AtomicLong ids = new AtomicLong(5000);
            List<Long> added = new CopyOnWriteArrayList<>();
            client.withIdSupplier(task, ids::incrementAndGet);
            TaskpoolException add = assertThrows(TaskpoolException.class, () -> client.add(task, "x"));
            assertTrue(add.getMessage().contains("runs event.add = scripts.s.OnAdd"), add.getMessage());
            client.onAdded(task, added::add);
            AddResult result = client.add(task, "x");
            assertEquals(5001, result.id(), "the refused adds took no id");
            assertEquals(List.of(5001L), added);
            assertEquals(5001, client.await(task, 5001, Duration.ofSeconds(20)).response().asLong());
        }
    }

    @Test
    void addingToATaskNoRuntimePublishedIsAClearError() {
        try (TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            String task = fixture.newTask("unpublished");
            UnknownTaskException error = assertThrows(UnknownTaskException.class, () -> client.add(task, 1));
            assertTrue(error.getMessage().contains("unknown task '" + task + "': no runtime has published it"), error.getMessage());
        }
    }

    @Test
    void connectingToNothingFailsClearly() {
        TaskpoolException error = assertThrows(TaskpoolException.class,
                () -> TaskpoolClient.connect("redis://127.0.0.1:1", Duration.ofSeconds(2)));
        assertTrue(error.getMessage().contains("cannot connect to Redis at redis://127.0.0.1:1"), error.getMessage());
        TaskpoolException bad = assertThrows(TaskpoolException.class, () -> TaskpoolClient.connect("http://x"));
        assertTrue(bad.getMessage().contains("invalid Redis URI 'http://x'"), bad.getMessage());
    }

    @Test
    void aBatchAddIsOneRoundTripAndRespectsSizeAtomically() {
        String task = fixture.newTask("bulk");
        TestApp app = TestApp.in(dir)
                .task(task, 2, 0, 0, 5, 5, "scripts.bulk.Echo", "")
                .script("bulk", "function Echo(id, word) { return word + id; }");
        try (Harness harness = Harness.open(app.dir());
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            List<Long> ids = client.addAll(task, List.of(List.of("a"), List.of("b"), List.of("c")));
            assertEquals(List.of(1L, 2L, 3L), ids);
            assertEquals(List.of(), client.addAll(task, List.of(List.of("d"), List.of("e"), List.of("f"))),
                    "3 waiting + 3 > size 5: none is added");
            assertEquals(3, harness.runtime.reads().stats(task).get("added"));
            harness.startWorker();
            for (long id : ids) {
                assertEquals(TaskStatus.SUCCESS, client.await(task, id, Duration.ofSeconds(20)).status());
            }
            assertEquals("b2", client.get(task, 2).orElseThrow().response().asText());
        }
    }
}
