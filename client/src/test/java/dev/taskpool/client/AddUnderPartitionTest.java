package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.TcpProxy;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Adds through a TCP proxy that partitions (bytes wait, then arrive when it heals, as TCP
 * delivers them) or severs the connection: an add is applied once or reported as unknown with a
 * request that settles it, never silently duplicated.
 */
class AddUnderPartitionTest {
    /** Short, so that partitions of a second or two outlast several sends. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofMillis(300);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("partition");

    private TcpProxy proxy;
    private RedisConnector direct;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void start() {
        proxy = TcpProxy.start(fixture.uri());
        direct = fixture.redis();
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        new AddStore(direct).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                Duration.ofSeconds(5), 100_000, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60)));
    }

    @AfterEach
    void stop() {
        proxy.close();
    }

    private TaskpoolClient client(Duration addDeadline) {
        return TaskpoolClient.connect(proxy.uri(), COMMAND_TIMEOUT, addDeadline);
    }

    /** The args of every task hash, by id: what Redis really holds. */
    private Map<Long, String> taskHashes() {
        Map<Long, String> args = new HashMap<>();
        for (String key : raw.keys(keys.taskPrefix() + "*")) {
            args.put(Long.parseLong(key.substring(keys.taskPrefix().length())), raw.hget(key, "args"));
        }
        return args;
    }

    @Test
    void aPartitionShorterThanTheDeadlineIsSettledWithoutTheCallerNoticing() throws Exception {
        try (TaskpoolClient client = client(Duration.ofSeconds(5))) {
            client.add(task, "warm-up");
            proxy.partition();
            CompletableFuture<AddResult> added = CompletableFuture.supplyAsync(() -> client.add(task, "through"));
            Thread.sleep(COMMAND_TIMEOUT.multipliedBy(3).toMillis()); // several sends time out meanwhile
            proxy.heal();
            assertEquals(2, added.get(60, TimeUnit.SECONDS).id());
        }
        assertEquals(Map.of(1L, "[\"warm-up\"]", 2L, "[\"through\"]"), taskHashes(), "applied once, though sent several times");
        assertEquals(2, raw.llen(keys.waiting()));
        assertEquals("2", raw.hget(keys.stats(), "added"));
    }

    /** An asynchronous add whose first send gets no answer goes on re-sending (from a re-sending thread) like a blocking one. */
    @Test
    void anAsyncAddThroughAPartitionShorterThanTheDeadlineIsAppliedOnce() throws Exception {
        try (TaskpoolClient client = client(Duration.ofSeconds(5))) {
            client.add(task, "warm-up");
            proxy.partition();
            CompletableFuture<AddResult> added = client.addAsync(task, "through");
            Thread.sleep(COMMAND_TIMEOUT.multipliedBy(3).toMillis()); // several sends time out meanwhile
            assertFalse(added.isDone(), "no answer during the partition: " + added);
            proxy.heal();
            assertEquals(2, added.get(60, TimeUnit.SECONDS).id());
        }
        assertEquals(Map.of(1L, "[\"warm-up\"]", 2L, "[\"through\"]"), taskHashes(), "applied once, though sent several times");
        assertEquals("2", raw.hget(keys.stats(), "added"));
    }

    @Test
    void pastTheDeadlineAnAsyncAddFailsAsUnknownAndItsRetryReturnsTheIdItGot() throws Exception {
        try (TaskpoolClient client = client(Duration.ofMillis(700))) {
            client.add(task, "warm-up");
            proxy.partition();
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> client.addAsync(task, "stuck").get(60, TimeUnit.SECONDS));
            AddOutcomeUnknownException unknown = assertInstanceOf(
                    AddOutcomeUnknownException.class, failed.getCause(), "the outcome is unknown: " + failed.getCause());
            assertTrue(unknown.getMessage().contains("the outcome of adding a task to " + task + " is unknown"), unknown.getMessage());
            proxy.heal();
            awaitTrue(() -> taskHashes().size() == 2, "the stuck add to arrive after the partition healed");
            assertEquals(List.of(2L), client.retryAdd(unknown.request()));
        }
        assertEquals(Map.of(1L, "[\"warm-up\"]", 2L, "[\"stuck\"]"), taskHashes());
    }

    @Test
    void pastTheDeadlineAnAddIsUnknownAndItsRetryReturnsTheIdItGotWhenThePartitionHealed() {
        try (TaskpoolClient client = client(Duration.ofMillis(700))) {
            client.add(task, "warm-up");
            proxy.partition();
            AddOutcomeUnknownException unknown = assertThrows(AddOutcomeUnknownException.class, () -> client.add(task, "stuck"));
            String requestId = unknown.requestId();
            assertTrue(unknown.getMessage().contains("the outcome of adding a task to " + task + " is unknown"), unknown.getMessage());
            assertTrue(unknown.getMessage().contains("do not add it again as a new add. Send it again with request id "
                    + requestId), unknown.getMessage());
            assertEquals(task, unknown.request().task());
            assertEquals(1, taskHashes().size(), "nothing arrived during the partition");
            proxy.heal();
            // What was sent during the partition arrives now, as in the report: the add is applied.
            awaitTrue(() -> taskHashes().size() == 2, "the stuck add to arrive after the partition healed");
            assertEquals(List.of(2L), client.retryAdd(unknown.request()));
        }
        assertEquals(Map.of(1L, "[\"warm-up\"]", 2L, "[\"stuck\"]"), taskHashes());
        assertEquals("2", raw.hget(keys.stats(), "added"));
    }

    @Test
    void whenTheConnectionIsSeveredTheStuckSendsAreLostAndTheRetryAddsOnce() {
        try (TaskpoolClient client = client(Duration.ofMillis(700))) {
            client.add(task, "warm-up");
            proxy.partition();
            AddOutcomeUnknownException unknown = assertThrows(AddOutcomeUnknownException.class, () -> client.add(task, "lost"));
            proxy.sever();
            proxy.heal();
            assertEquals(List.of(2L), client.retryAdd(unknown.request()));
            assertEquals(List.of(2L), client.retryAdd(unknown.request()), "a second retry returns the same id");
        }
        assertEquals(Map.of(1L, "[\"warm-up\"]", 2L, "[\"lost\"]"), taskHashes());
        assertEquals("2", raw.hget(keys.stats(), "added"));
    }

    /** What one run of the harness counted. */
    private record Tally(int adds, int partitions, int severed, int returnedIds, int taskHashes, int duplicates,
                         int unknownOutcomes, int retryCalls, Map<Long, String> returned, Map<Long, String> hashes) {
        @Override
        public String toString() {
            return "%d one-at-a-time adds, %d partitions (%d severed): returned ids %d, task hashes %d, duplicates %d;"
                    .formatted(adds, partitions, severed, returnedIds, taskHashes, duplicates)
                    + " unknown outcomes %d, retryAdd calls %d".formatted(unknownOutcomes, retryCalls);
        }
    }

    /**
     * The harness of the report: adds one at a time, each with a unique argument, while another
     * thread partitions the connection (sometimes severing it) again and again; an add whose
     * outcome is unknown is settled with retryAdd, or, as callers did before, added again as a
     * new add. Then it counts returned ids, task hashes and duplicates.
     */
    private Tally harness(Duration addDeadline, boolean settleWithRetryAdd, int wantedPartitions) throws Exception {
        return harness(addDeadline, settleWithRetryAdd, wantedPartitions, 1);
    }

    /**
     * As above, with {@code callers} threads each adding one at a time at once (their adds share
     * enqueue calls; a re-send after no answer goes on its own, under the same request id).
     */
    private Tally harness(Duration addDeadline, boolean settleWithRetryAdd, int wantedPartitions, int callers) throws Exception {
        Map<Long, String> returned = new ConcurrentHashMap<>();
        AtomicInteger partitions = new AtomicInteger();
        AtomicInteger severed = new AtomicInteger();
        AtomicInteger unknownOutcomes = new AtomicInteger();
        AtomicInteger retryCalls = new AtomicInteger();
        AtomicInteger adds = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        Random random = new Random(42);
        Thread chaos = Thread.ofPlatform().name("partitions").start(() -> {
            try {
                while (!done.get()) {
                    // Healed gaps of 400 ms or more: enough for a re-send to get through, so that
                    // every unknown outcome settles within its window (D + 6 command timeouts).
                    Thread.sleep(400 + random.nextInt(400));
                    proxy.partition();
                    partitions.incrementAndGet();
                    Thread.sleep(100 + random.nextInt(1400));
                    if (random.nextInt(3) == 0) {
                        proxy.sever();
                        severed.incrementAndGet();
                    }
                    proxy.heal();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                proxy.heal();
            }
        });
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (TaskpoolClient client = client(addDeadline)) {
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                String prefix = callers == 1 ? "add-" : "caller-" + c + "-add-";
                threads.add(Thread.ofPlatform().name("adder-" + c).start(() -> {
                    try {
                        for (int i = 0; partitions.get() < wantedPartitions && failure.get() == null; i++) {
                            assertTrue(i < 100_000, "the harness did not partition the connection " + wantedPartitions + " times");
                            String arg = prefix + i;
                            Long id = null;
                            AddOutcomeUnknownException unknown = null;
                            while (id == null) {
                                boolean retrying = unknown != null;
                                try {
                                    if (retrying) {
                                        retryCalls.incrementAndGet();
                                        id = client.retryAdd(unknown.request()).getFirst();
                                    } else {
                                        id = client.add(task, arg).id();
                                    }
                                } catch (AddOutcomeUnknownException e) {
                                    if (!retrying) {
                                        unknownOutcomes.incrementAndGet();
                                    }
                                    unknown = settleWithRetryAdd ? e : null;
                                }
                            }
                            assertTrue(id > 0, "the queue is large enough: " + arg + " got id " + id);
                            String previous = returned.put(id, "[\"" + arg + "\"]");
                            assertEquals(null, previous, "id " + id + " was returned for two adds");
                            adds.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
        } finally {
            done.set(true);
            chaos.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("an adding thread failed: " + failure.get(), failure.get());
        }
        // Sends still stuck when the harness ended arrived with the last heal; give them a moment.
        Thread.sleep(COMMAND_TIMEOUT.toMillis());
        Map<Long, String> hashes = taskHashes();
        int duplicates = hashes.size() - new HashSet<>(hashes.values()).size();
        return new Tally(adds.get(), partitions.get(), severed.get(), returned.size(), hashes.size(), duplicates,
                unknownOutcomes.get(), retryCalls.get(), new HashMap<>(returned), hashes);
    }

    /** Eight callers at once: their adds share calls, and a partition leaves every one applied once. */
    @Test
    void concurrentAddsThroughRepeatedPartitionsAreNeverDuplicated() throws Exception {
        Tally tally = harness(Duration.ofMillis(1200), true, 6, 8);
        System.out.println("partition harness, 8 callers, unknown outcomes settled with retryAdd: " + tally);
        assertEquals(0, tally.duplicates(), "no argument is in two task hashes");
        assertEquals(tally.returned(), tally.hashes(), "every returned id has exactly its task, and there is no other task");
        assertEquals(Integer.toString(tally.adds()), raw.hget(keys.stats(), "added"));
        assertEquals(tally.adds(), raw.llen(keys.waiting()));
        assertTrue(tally.unknownOutcomes() > 0, "no add met a partition past its deadline: the harness tested nothing");
    }

    @Test
    void oneAtATimeAddsThroughRepeatedPartitionsAreNeverDuplicated() throws Exception {
        Tally tally = harness(Duration.ofMillis(1200), true, 8);
        System.out.println("partition harness, unknown outcomes settled with retryAdd: " + tally);
        assertEquals(0, tally.duplicates(), "no argument is in two task hashes");
        assertEquals(tally.returned(), tally.hashes(), "every returned id has exactly its task, and there is no other task");
        assertEquals(Integer.toString(tally.adds()), raw.hget(keys.stats(), "added"));
        assertEquals(tally.adds(), raw.llen(keys.waiting()));
        assertTrue(tally.unknownOutcomes() > 0, "no add met a partition past its deadline: the harness tested nothing");
    }

    /**
     * The same partitions with the behaviour of before: one send per add (no settling), and a
     * caller that adds again when it fails. Every extra task is a duplicate of a returned one.
     */
    @Test
    void aCallerThatAddsAgainAfterAnUnknownOutcomeDuplicatesWhatTheStuckSendApplied() throws Exception {
        Tally tally = harness(Duration.ofMillis(1), false, 5);
        System.out.println("partition harness, one send per add and a caller that adds again: " + tally);
        Set<String> returnedArgs = new HashSet<>(tally.returned().values());
        assertEquals(returnedArgs, new HashSet<>(tally.hashes().values()), "no task but the ones the caller asked for");
        for (Map.Entry<Long, String> entry : tally.returned().entrySet()) {
            assertEquals(entry.getValue(), tally.hashes().get(entry.getKey()), "returned id " + entry.getKey());
        }
        assertEquals(tally.returnedIds() + tally.duplicates(), tally.taskHashes(), "every extra task duplicates a returned one");
        assertTrue(tally.duplicates() <= tally.unknownOutcomes(), "a duplicate only where an outcome was unknown");
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 10 s waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }
}
