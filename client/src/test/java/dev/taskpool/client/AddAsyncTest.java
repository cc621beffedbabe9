package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link TaskpoolClient#addAsync}: one thread keeps many adds in flight, each applied once, with the outcomes of {@code add}. */
class AddAsyncTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    private String publish(RedisConnector direct, String name, int size) {
        String task = fixture.newTask(name);
        new AddStore(direct).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                Duration.ofSeconds(5), size, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60)));
        return task;
    }

    @Test
    void fiveHundredAddsInFlightFromOneThreadEachGetTheirOwnId() throws Exception {
        RedisConnector direct = fixture.redis();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            String task = publish(direct, "async", 1000);
            Set<String> handlerThreads = ConcurrentHashMap.newKeySet();
            Set<Long> handled = ConcurrentHashMap.newKeySet();
            client.onAdded(task, id -> {
                handled.add(id);
                handlerThreads.add(Thread.currentThread().getName());
            });
            List<CompletableFuture<AddResult>> adds = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                adds.add(client.addAsync(task, "mail-" + i, i));
            }
            Set<Long> ids = new TreeSet<>();
            for (CompletableFuture<AddResult> add : adds) {
                AddResult result = add.get(30, TimeUnit.SECONDS);
                assertFalse(result.isQueueFull(), "the queue has room for all: " + result);
                ids.add(result.id());
            }
            assertEquals(500, ids.size(), "every add got an id of its own");
            assertEquals(1L, ids.iterator().next());
            assertEquals(500L, ((TreeSet<Long>) ids).last());
            RedisClusterCommands<String, String> raw = direct.sync();
            Keys keys = Keys.of(task);
            assertEquals(500, raw.llen(keys.waiting()), "each add is in the queue once");
            assertEquals("500", raw.hget(keys.stats(), "added"));
            long id = adds.get(123).get().id();
            assertEquals("[\"mail-123\",123]", raw.hget(keys.task(id), "args"), "the add's own arguments under its id");
            assertEquals(ids, handled, "the add handler ran once per added task");
            assertTrue(handlerThreads.stream().noneMatch(name -> name.contains("lettuce")),
                    "handlers never run on the client's I/O thread: " + handlerThreads);
        }
    }

    @Test
    void aFullQueueRefusesTheAddsPastItsSizeAndWritesNothingForThem() throws Exception {
        RedisConnector direct = fixture.redis();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            String task = publish(direct, "asyncfull", 3);
            List<CompletableFuture<AddResult>> adds = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                adds.add(client.addAsync(task, i));
            }
            long full = 0;
            for (CompletableFuture<AddResult> add : adds) {
                full += add.get(30, TimeUnit.SECONDS).isQueueFull() ? 1 : 0;
            }
            assertEquals(2, full, "size 3: the last two adds find the queue full");
            assertEquals(3, direct.sync().llen(Keys.of(task).waiting()));
            assertEquals("3", direct.sync().hget(Keys.of(task).stats(), "added"));
        }
    }

    @Test
    void anUnknownTaskOrBadArgumentsFailTheFutureWithTheReason() {
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            String task = fixture.newTask("never.published");
            CompletionException unknown = assertThrows(CompletionException.class, () -> client.addAsync(task, 1).join());
            assertInstanceOf(UnknownTaskException.class, unknown.getCause());
            assertTrue(unknown.getCause().getMessage().contains("unknown task '" + task + "'"), unknown.getCause().getMessage());
            CompletionException invalid = assertThrows(CompletionException.class, () -> client.addAsync("bad:id", 1).join());
            assertInstanceOf(TaskpoolException.class, invalid.getCause());
            assertTrue(invalid.getCause().getMessage().contains("invalid task id 'bad:id'"), invalid.getCause().getMessage());
        }
    }
}
