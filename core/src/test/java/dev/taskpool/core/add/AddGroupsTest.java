package dev.taskpool.core.add;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
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
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Group commit of concurrent adds against a real Redis: adds that come while a call of their kind
 * is out share the next call, and each keeps its own outcome (its id, its `size` check, its error).
 */
class AddGroupsTest {
    private static final long NOW = 1_700_000_000_000L;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("groups");

    private RedisConnector redis;
    private AddStore addStore;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void connect() {
        redis = fixture.redis();
        addStore = new AddStore(redis);
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        publish(task, 100_000);
    }

    private void publish(String id, int size) {
        addStore.publish(new TaskDefinition(id, "tasks/" + id + ".yao", "test", 2, 1, Duration.ZERO, Duration.ofSeconds(5),
                size, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60)));
    }

    private List<CompletableFuture<AddResult>> addAsync(int count, IntFunction<Long> id) {
        List<CompletableFuture<AddResult>> adds = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            adds.add(addStore.addAsync(task, id.apply(i), "[" + i + "]", NOW));
        }
        return adds;
    }

    @Test
    void concurrentAddsShareCallsAndEachGetsItsOwnId() throws Exception {
        long callsBefore = addStore.scriptCalls();
        List<CompletableFuture<AddResult>> adds = addAsync(300, i -> null);
        Set<Long> ids = new TreeSet<>();
        for (int i = 0; i < adds.size(); i++) {
            long id = adds.get(i).get(30, TimeUnit.SECONDS).id();
            ids.add(id);
            assertEquals("[" + i + "]", raw.hget(keys.task(id), "args"), "add " + i + " got the id of its own task");
        }
        long calls = addStore.scriptCalls() - callsBefore;
        assertEquals(LongStream.rangeClosed(1, 300).boxed().toList(), List.copyOf(ids), "300 distinct ids");
        assertTrue(calls <= 150, "300 adds in flight shared calls: " + calls + " script calls");
        assertEquals(300, raw.llen(keys.waiting()));
        assertEquals("300", raw.hget(keys.stats(), "added"));
        List<String> queue = raw.lrange(keys.waiting(), 0, -1).reversed();
        for (int i = 0; i < 300; i++) {
            assertEquals(Long.toString(adds.get(i).get().id()), queue.get(i), "the queue keeps the order the adds were made in");
        }
        System.out.printf("group commit: 300 adds in flight took %d script calls%n", calls);
    }

    @Test
    void addsPastSizeAreRefusedWhileTheOthersInTheirCallAreAdded() throws Exception {
        publish(task, 5);
        long callsBefore = addStore.scriptCalls();
        List<CompletableFuture<AddResult>> adds = addAsync(12, i -> null);
        List<Boolean> full = new ArrayList<>();
        for (CompletableFuture<AddResult> add : adds) {
            full.add(add.get(30, TimeUnit.SECONDS).isQueueFull());
        }
        assertTrue(addStore.scriptCalls() - callsBefore < 12, "the adds shared calls");
        assertEquals(List.of(false, false, false, false, false, true, true, true, true, true, true, true), full,
                "size 5: the first five in arrival order are added, each later one is refused on its own");
        assertEquals(5, raw.llen(keys.waiting()));
        assertEquals("5", raw.hget(keys.stats(), "added"));
    }

    @Test
    void anIdCollisionFailsOnlyItsOwnAdd() throws Exception {
        raw.hset(keys.task(7), "squatter", "1");
        long callsBefore = addStore.scriptCalls();
        List<CompletableFuture<AddResult>> adds = addAsync(20, i -> (long) i + 1);
        for (int i = 0; i < 20; i++) {
            if (i == 6) {
                ExecutionException failed = assertThrows(ExecutionException.class, () -> adds.get(6).get(30, TimeUnit.SECONDS));
                assertInstanceOf(TaskpoolException.class, failed.getCause());
                assertTrue(failed.getCause().getMessage().contains("id 7 already exists")
                        && failed.getCause().getMessage().contains("nothing was written"), failed.getCause().getMessage());
            } else {
                assertEquals(i + 1, adds.get(i).get(30, TimeUnit.SECONDS).id(), "add " + i);
            }
        }
        assertTrue(addStore.scriptCalls() - callsBefore < 20, "the adds shared calls");
        assertEquals(19, raw.llen(keys.waiting()));
        assertEquals(Map.of("squatter", "1"), raw.hgetall(keys.task(7)), "the existing task is untouched");
    }

    @Test
    void syncAddsFromManyThreadsShareCallsAndEachGetsItsOwnId() throws Exception {
        long callsBefore = addStore.scriptCalls();
        Set<Long> ids = ConcurrentHashMap.newKeySet();
        List<Thread> callers = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int c = 0; c < 16; c++) {
            int caller = c;
            callers.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 25; i++) {
                        AddResult added = addStore.add(task, null, "[\"" + caller + "-" + i + "\"]", NOW);
                        assertTrue(ids.add(added.id()), "id " + added.id() + " returned twice");
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread caller : callers) {
            caller.join(60_000);
            assertTrue(!caller.isAlive(), "a caller did not finish within 60 s");
        }
        if (failure.get() != null) {
            throw new AssertionError("a caller failed: " + failure.get(), failure.get());
        }
        long calls = addStore.scriptCalls() - callsBefore;
        assertEquals(400, ids.size());
        assertEquals(400, raw.llen(keys.waiting()));
        assertTrue(calls < 400, "sync adds from 16 threads shared calls: " + calls + " script calls for 400 adds");
        System.out.printf("group commit: 400 sync adds from 16 threads took %d script calls%n", calls);
    }

    @Test
    void anUnknownTaskFailsEachAddWithTheReason() {
        String unknown = fixture.newTask("never.published");
        List<CompletableFuture<AddResult>> adds = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            adds.add(addStore.addAsync(unknown, null, "[]", NOW));
        }
        for (CompletableFuture<AddResult> add : adds) {
            ExecutionException failed = assertThrows(ExecutionException.class, () -> add.get(30, TimeUnit.SECONDS));
            assertInstanceOf(UnknownTaskException.class, failed.getCause());
        }
        assertEquals(0, raw.exists(Keys.of(unknown).waiting(), Keys.of(unknown).stats()), "nothing was written");
    }

    @Test
    void aLoneAddGoesAtOnceInACallOfItsOwn() {
        long callsBefore = addStore.scriptCalls();
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, addStore.add(task, null, "[]", NOW).id());
        }
        assertEquals(5, addStore.scriptCalls() - callsBefore, "one call per add when nothing else is in flight");
    }
}
