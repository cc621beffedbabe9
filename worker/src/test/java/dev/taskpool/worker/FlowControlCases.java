package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19's flow controls that one in-process worker (or none) shows, with real Redis: a unique
 * key among eight concurrent adds, a key whose task was deleted by hand, a priority added behind
 * twenty default tasks of a paused kind, a processor's {@code RateLimited} signal, and
 * {@code unique} ({@code for}, {@code by: "args"}). Subclasses give the Redis: a standalone one
 * ({@link FlowControlTest}) and a Cluster ({@code cluster.FlowControlClusterTest}). The caps of
 * several worker processes ({@code max_running}, {@code rate}) are in the cli module's
 * {@code fault.FlowControlProcessesTest}. Order and counts only: no assertion on how long anything took.
 */
public abstract class FlowControlCases {
    protected static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    protected Path dir;

    /** The Redis the test runs on. */
    protected abstract String redisUri();

    /** A task kind no other test uses (cleaned up after the test where the Redis is shared). */
    protected abstract String newKind(String base);

    /** A key of kind {@code kind}, as the design names it: {@code taskpool:{kind}:<suffix>}. */
    protected static String key(String kind, String suffix) {
        return Keys.ROOT + "{" + kind + "}:" + suffix;
    }

    private Harness open(TestApp app, ProcessRegistry registry) {
        return Harness.open(app.dir(), registry, redisUri());
    }

    private static long statsField(RedisClusterCommands<String, String> sync, String kind, String field) {
        String value = sync.hget(Keys.of(kind).stats(), field);
        return value == null ? 0 : Long.parseLong(value);
    }

    /** Runs {@code add} from {@code count} threads released together by a barrier; the results in thread order. */
    private static List<AddResult> together(int count, IntFunction<AddResult> add) throws Exception {
        CyclicBarrier barrier = new CyclicBarrier(count);
        ExecutorService threads = Executors.newFixedThreadPool(count);
        try {
            List<Future<AddResult>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int n = i;
                futures.add(threads.submit(() -> {
                    barrier.await(30, TimeUnit.SECONDS);
                    return add.apply(n);
                }));
            }
            List<AddResult> results = new ArrayList<>();
            for (Future<AddResult> future : futures) {
                results.add(future.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            threads.shutdownNow();
        }
    }

    private static void assertOneTaskForAll(String what, List<AddResult> results) {
        long id = results.getFirst().id();
        assertTrue(id > 0, what + ": an id, not a full queue: " + results);
        assertEquals(Set.of(id), Set.copyOf(results.stream().map(AddResult::id).toList()),
                what + ": every add got the one task's id: " + results);
        assertEquals(1, results.stream().filter(result -> !result.duplicate()).count(),
                what + ": exactly one add made the task: " + results);
        assertEquals(results.size() - 1, results.stream().filter(AddResult::duplicate).count(),
                what + ": the others say duplicate: " + results);
    }

    @Test
    public void eightConcurrentAddsWithOneKeyMakeOneTaskAndAllGetItsId() throws Exception {
        String kind = newKind("flowkey");
        TestApp app = TestApp.in(dir).task(kind, 2, 0, 0, 30, 100, "java.flowkey.Work", "");
        ProcessRegistry registry = new ProcessRegistry().register("java.flowkey.Work", args -> "done");
        try (Harness harness = open(app, registry)) {
            var sync = harness.redis.sync();
            // No worker: the task stays WAITING, so the key is held throughout.
            // Round 1: one client shared by the eight threads (its group commit may carry several
            // of these adds in one script call).
            List<AddResult> shared = together(8, i -> harness.client.addWith(kind, AddOptions.key("k-shared"), "shared", i));
            assertOneTaskForAll("one client, eight threads", shared);

            // Round 2: eight clients of their own, one per thread.
            List<TaskpoolClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    clients.add(TaskpoolClient.connect(redisUri()));
                }
                List<AddResult> own = together(8, i -> clients.get(i).addWith(kind, AddOptions.key("k-own"), "own", i));
                assertOneTaskForAll("eight clients", own);
                assertNotEquals(shared.getFirst().id(), own.getFirst().id(), "two keys, two tasks");

                assertEquals(2, statsField(sync, kind, "added"), "two tasks added in all (stats added)");
                assertEquals(14, statsField(sync, kind, "duplicates"), "fourteen adds answered with an existing id");
                assertEquals(2, sync.llen(Keys.of(kind).waiting()), "two ids waiting: " + sync.lrange(Keys.of(kind).waiting(), 0, -1));
                for (var pair : List.of(Map.entry("k-shared", shared.getFirst().id()), Map.entry("k-own", own.getFirst().id()))) {
                    assertEquals(String.valueOf(pair.getValue()), sync.get(key(kind, "unique:" + pair.getKey())),
                            "the unique key " + pair.getKey() + " names its task");
                    Map<String, String> hash = sync.hgetall(Keys.of(kind).task(pair.getValue()));
                    assertEquals("WAITING", hash.get("status"), hash.toString());
                    assertEquals(pair.getKey(), hash.get("key"), "the task hash has its key: " + hash);
                }
            } finally {
                clients.forEach(TaskpoolClient::close);
            }
        }
    }

    @Test
    public void aKeyWhoseWaitingTaskWasDeletedByHandDoesNotBlockTheNextAdd() {
        String kind = newKind("flowgone");
        TestApp app = TestApp.in(dir).task(kind, 2, 0, 0, 30, 100, "java.flowgone.Work", "");
        ProcessRegistry registry = new ProcessRegistry().register("java.flowgone.Work", args -> args.get(1));   // (id, args...)
        try (Harness harness = open(app, registry)) {
            var sync = harness.redis.sync();
            harness.client.operations().pause(kind, "flow-test");
            AddResult first = harness.client.addWith(kind, AddOptions.key("invoice-42"), "first");
            assertFalse(first.duplicate(), first.toString());
            AddResult held = harness.client.addWith(kind, AddOptions.key("invoice-42"), "held");
            assertTrue(held.duplicate(), "the key is held while its task waits: " + held);
            assertEquals(first.id(), held.id());

            assertEquals(1L, sync.del(Keys.of(kind).task(first.id())), "the waiting task's hash deleted by hand");

            AddResult next = harness.client.addWith(kind, AddOptions.key("invoice-42"), "next");
            assertFalse(next.duplicate(), "a key whose task is gone is free: " + next);
            assertNotEquals(first.id(), next.id(), "a new task: " + next);
            assertEquals(String.valueOf(next.id()), sync.get(key(kind, "unique:invoice-42")), "the key names the new task");
            AddResult again = harness.client.addWith(kind, AddOptions.key("invoice-42"), "again");
            assertTrue(again.duplicate(), "and the new task holds it: " + again);
            assertEquals(next.id(), again.id());

            // The deleted task's id is still in the waiting list: the worker passes over it and runs the new one.
            harness.client.operations().resume(kind, "flow-test");
            harness.startWorker();
            TaskInfo done = harness.client.await(kind, next.id(), LIMIT);
            assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
            assertEquals("next", done.response().asText());
        }
    }

    @Test
    public void aHighPriorityTaskAddedBehindTwentyDefaultOnesOnAPausedKindRunsFirstAfterResume() {
        String kind = newKind("flowprio");
        List<String> order = new CopyOnWriteArrayList<>();
        ProcessRegistry registry = new ProcessRegistry().register("java.flowprio.Work", args -> {
            order.add(String.valueOf(args.get(1)));   // a processor is called with (id, args...)
            return args.get(1);
        });
        // worker_nums 1 and one worker: one task at a time, so the order of the runs is the order of the starts.
        TestApp app = TestApp.in(dir).task(kind, 1, 0, 0, 30, 100, "java.flowprio.Work", "");
        try (Harness harness = open(app, registry)) {
            var sync = harness.redis.sync();
            harness.client.operations().pause(kind, "flow-test");
            harness.startWorker();   // idle on the paused kind
            List<Long> defaults = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                defaults.add(harness.client.add(kind, "default-" + i).id());
            }
            AddResult urgent = harness.client.addWith(kind, AddOptions.priority(3), "urgent");
            assertEquals("3", sync.hget(Keys.of(kind).task(urgent.id()), "priority"), "the task hash has its priority");
            assertEquals(1, sync.llen(key(kind, "waiting:3")), "the priority task waits in waiting:3");
            assertEquals(20, sync.llen(Keys.of(kind).waiting()), "the default ones in waiting");
            assertTrue(order.isEmpty(), "nothing ran on the paused kind: " + order);

            harness.client.operations().resume(kind, "flow-test");
            Wait.until("the 21 tasks to succeed", LIMIT, () -> statsField(sync, kind, "succeeded") >= 21);

            List<String> expected = new ArrayList<>(List.of("urgent"));
            IntStream.range(0, 20).forEach(i -> expected.add("default-" + i));
            assertEquals("urgent", order.getFirst(), "the priority 3 task ran first: " + order);
            assertEquals(expected, order, "then the default ones in the order they were added");
            TaskInfo first = harness.client.get(kind, urgent.id()).orElseThrow();
            for (long id : defaults) {
                TaskInfo other = harness.client.get(kind, id).orElseThrow();
                assertTrue(first.startedAt() <= other.startedAt(), "the priority task started no later than #" + id
                        + ": " + first.startedAt() + " vs " + other.startedAt());
            }
        }
    }

    @Test
    public void aRateLimitedSignalHoldsTheKindAndDoesNotBurnAnAttempt() {
        String kind = newKind("flowheld");
        Set<String> ran = ConcurrentHashMap.newKeySet();
        ProcessRegistry registry = new ProcessRegistry()
                .register("probe.flowheld.FirstRun", args -> ran.add(String.valueOf(args.getFirst())));   // (id)
        // attempts 0: one run that counts. Had the signal counted, "first" would end in FAILURE.
        TestApp app = TestApp.in(dir).task(kind, 3, 0, 0, 30, 100, "scripts.flowheld.Work", "")
                .script("flowheld", """
                        function Work(id, name) {
                          if (name === 'first' && Process('probe.flowheld.FirstRun', id)) {
                            throw RateLimited(1500, 'the service answered 429');
                          }
                          return name;
                        }
                        """);
        try (Harness harness = open(app, registry)) {
            var sync = harness.redis.sync();
            harness.startWorker();
            long first = harness.client.add(kind, "first").id();
            String flow = key(kind, "flow");
            Wait.until("the kind held (held_until in " + flow + ")", LIMIT, () -> sync.hget(flow, "held_until") != null);
            long heldUntil = Long.parseLong(sync.hget(flow, "held_until"));
            long second = harness.client.add(kind, "second").id();
            long third = harness.client.add(kind, "third").id();

            for (long id : List.of(first, second, third)) {
                TaskInfo done = harness.client.await(kind, id, LIMIT);
                assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
                assertTrue(done.startedAt() >= heldUntil, "#" + id + " (" + done.response() + ") started at "
                        + done.startedAt() + ", before the hold lifted at " + heldUntil);
                assertEquals(1, done.attempt(), "#" + id + ": attempt " + done);
                System.out.println("flow [RateLimited 1500 ms]: #" + id + " " + done.response() + " started "
                        + (done.startedAt() - heldUntil) + " ms after the hold lifted");
            }
            TaskInfo limited = harness.client.get(kind, first).orElseThrow();
            assertEquals(1, limited.freeRuns(), "the rate-limited run did not count: " + limited);
            assertEquals("first", limited.response().asText());
            assertEquals(0, harness.client.get(kind, second).orElseThrow().freeRuns());
            assertEquals(0, statsField(sync, kind, "failed"));
        }
    }

    @Test
    public void uniqueForKeepsAKeyAfterItsTaskEndsAndUniqueByArgsDedupsIdenticalArgs() {
        String keyed = newKind("flowfor");
        String byArgs = newKind("flowargs");
        ProcessRegistry registry = new ProcessRegistry()
                .register("java.flowfor.Work", args -> String.valueOf(args.get(1)));   // (id, args...)
        TestApp app = TestApp.in(dir)
                .task(keyed, 2, 0, 0, 30, 100, "java.flowfor.Work", "\"unique\": {\"for\": 60}")
                .task(byArgs, 2, 0, 0, 30, 100, "java.flowfor.Work", "\"unique\": {\"by\": \"args\"}");
        try (Harness harness = open(app, registry)) {
            var sync = harness.redis.sync();
            harness.client.operations().pause(byArgs, "flow-test");
            harness.startWorker();

            // unique for 60 s: the key outlives its task by a minute.
            AddResult order = harness.client.addWith(keyed, AddOptions.key("order-7"), "x");
            assertFalse(order.duplicate());
            assertEquals(TaskStatus.SUCCESS, harness.client.await(keyed, order.id(), LIMIT).status());
            AddResult after = harness.client.addWith(keyed, AddOptions.key("order-7"), "y");
            assertTrue(after.duplicate(), "within `for` after the end, the key still names the task: " + after);
            assertEquals(order.id(), after.id());
            long ttl = sync.pttl(key(keyed, "unique:order-7"));
            assertTrue(ttl > 0 && ttl <= 60_000, "the key lives `for` (60 s) past the end, PTTL " + ttl);
            Object fromScript = harness.call("tasks." + keyed + ".addWith", Map.of("key", "order-7"), "z");
            assertEquals(order.id(), ((Number) fromScript).longValue(), "a script's addWith answers the held id");
            AddResult other = harness.client.addWith(keyed, AddOptions.key("order-8"), "x");
            assertFalse(other.duplicate(), "another key, another task");
            assertNotEquals(order.id(), other.id());
            assertEquals(2, statsField(sync, keyed, "duplicates"));
            assertEquals(2, statsField(sync, keyed, "added"));

            // unique by args (for 0): identical args make one task while it waits; other args another.
            AddResult a = harness.client.add(byArgs, "same", 1);
            AddResult b = harness.client.add(byArgs, "same", 1);
            AddResult c = harness.client.add(byArgs, "same", 2);
            assertFalse(a.duplicate(), a.toString());
            assertTrue(b.duplicate(), "identical args: " + b);
            assertEquals(a.id(), b.id());
            assertFalse(c.duplicate(), "other args: " + c);
            assertNotEquals(a.id(), c.id());
            assertEquals(2, sync.llen(Keys.of(byArgs).waiting()));
            harness.client.operations().resume(byArgs, "flow-test");
            assertEquals(TaskStatus.SUCCESS, harness.client.await(byArgs, a.id(), LIMIT).status());
            assertEquals(TaskStatus.SUCCESS, harness.client.await(byArgs, c.id(), LIMIT).status());
            // `for` 0: the key is freed when the task ends.
            AddResult d = harness.client.add(byArgs, "same", 1);
            assertFalse(d.duplicate(), "after the task ended (for 0) the same args add a new task: " + d);
            assertNotEquals(a.id(), d.id());
            assertNotNull(harness.client.await(byArgs, d.id(), LIMIT));
            assertEquals(1, statsField(sync, byArgs, "duplicates"));
        }
    }
}
