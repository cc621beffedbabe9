package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Listeners run on threads the client owns, not on the thread that reads Redis's replies: a
 * listener that blocks, or that calls the client, holds up nothing else.
 */
class EventListenerThreadTest {
    /** Short, so that a reply held up behind a blocked listener shows as a timeout quickly. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("listener");

    private String publish(RedisConnector direct) {
        String task = fixture.task();
        new AddStore(direct).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                Duration.ofSeconds(5), 1000, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60)));
        return task;
    }

    /** Ends every waiting task of {@code task} in SUCCESS, as a worker would (on a connection of its own). */
    private static void finishWaiting(RedisConnector direct, String task) throws Exception {
        RunStore runStore = new RunStore(direct);
        long now = System.currentTimeMillis();
        List<FetchedTask> runs = runStore.fetch(task, 100, now, now + 60_000, "test-worker", Duration.ofSeconds(60))
                .get(60, TimeUnit.SECONDS);
        for (FetchedTask run : runs) {
            runStore.complete(run, TaskStatus.SUCCESS, "{\"ok\":true}", System.currentTimeMillis(), Duration.ofSeconds(60))
                    .get(60, TimeUnit.SECONDS);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(120, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aListenerThatBlocksHoldsUpNeitherAddsNorGetsNorAwaits() throws Exception {
        RedisConnector direct = fixture.redis();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri(), COMMAND_TIMEOUT)) {
            String task = publish(direct);
            long first = client.add(task, "first").id();
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> listenerThread = new CompletableFuture<>();
            try (Subscription blocked = client.subscribeAll(task, event -> {
                listenerThread.complete(Thread.currentThread().getName());
                entered.countDown();
                awaitQuietly(release);
            })) {
                client.progress(task, first, 1, 2, "under way");
                assertTrue(entered.await(LIMIT.toSeconds(), TimeUnit.SECONDS), "the listener got the progress event");
                assertTrue(listenerThread.get().startsWith("taskpool-events-"), "the client's own thread: " + listenerThread.get());

                // The listener is blocked now; the client goes on.
                long second = client.add(task, "second").id();
                assertEquals(TaskStatus.WAITING, client.get(task, second).orElseThrow().status());
                assertEquals(second + 1, client.addAsync(task, "third").get(LIMIT.toSeconds(), TimeUnit.SECONDS).id());
                finishWaiting(direct, task);
                TaskInfo done = client.await(task, second, LIMIT);
                assertEquals(TaskStatus.SUCCESS, done.status());
                assertEquals(TaskStatus.SUCCESS, client.await(task, first, LIMIT).status());
            } finally {
                release.countDown();
            }
        }
    }

    @Test
    void aListenerThatCallsTheClientDoesNotDeadlock() throws Exception {
        RedisConnector direct = fixture.redis();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri(), COMMAND_TIMEOUT)) {
            String task = publish(direct);
            long done = client.add(task, "done before").id();
            finishWaiting(direct, task);
            long watched = client.add(task, "watched").id();
            CompletableFuture<String> seen = new CompletableFuture<>();
            try (Subscription subscription = client.subscribe(task, watched, event -> {
                try {
                    // a read, and an await, which subscribes to another task's events from inside this listener
                    TaskInfo read = client.get(task, watched).orElseThrow();
                    TaskInfo other = client.await(task, done, LIMIT);
                    seen.complete(read.status() + "/" + other.status());
                } catch (Throwable e) {
                    seen.completeExceptionally(e);
                }
            })) {
                client.progress(task, watched, 1, 2, "under way");
                assertEquals("WAITING/SUCCESS", seen.get(LIMIT.toSeconds(), TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aListenerGivenAnExecutorRunsThereInOrder() throws Exception {
        ExecutorService own = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("application-listener").factory());
        RedisConnector direct = fixture.redis();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            String task = publish(direct);
            long id = client.add(task, "watched").id();
            List<String> seen = new CopyOnWriteArrayList<>();
            CountDownLatch all = new CountDownLatch(50);
            try (Subscription subscription = client.subscribe(task, id, event -> {
                seen.add(Thread.currentThread().getName() + ":" + event.message().path("current").asLong());
                all.countDown();
            }, own)) {
                for (int i = 1; i <= 50; i++) {
                    client.progress(task, id, i, 50, "step " + i);
                }
                assertTrue(all.await(LIMIT.toSeconds(), TimeUnit.SECONDS), "all 50 events arrived: " + seen);
            }
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= 50; i++) {
                expected.add("application-listener:" + i);
            }
            assertEquals(expected, seen, "on the given executor, in the order published");
        } finally {
            own.shutdownNow();
        }
    }

    /**
     * A listener that falls far behind has at most 10,000 events waiting for it: the oldest are
     * dropped, and it goes on with the newest, in order.
     */
    @Test
    void aListenerFarBehindKeepsTheNewestTenThousandEvents() throws Exception {
        int published = 10_050;
        RedisConnector direct = fixture.redis();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            String task = publish(direct);
            String channel = Keys.of(task).events(1);
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            List<Long> seen = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> marker = new CompletableFuture<>();
            try (Subscription slow = client.subscribe(task, 1, event -> {
                    seen.add(event.message().path("current").asLong());
                    entered.countDown();
                    awaitQuietly(release);
                });
                 Subscription other = client.subscribe(task, 2, event -> marker.complete(null))) {
                direct.sync().publish(channel, progress(task, 1, 0));
                assertTrue(entered.await(LIMIT.toSeconds(), TimeUnit.SECONDS), "the slow listener got the first event");
                List<CompletableFuture<Long>> sends = new ArrayList<>();
                for (int i = 1; i <= published; i++) {
                    sends.add(direct.async().publish(channel, progress(task, 1, i)).toCompletableFuture());
                }
                CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(LIMIT.toSeconds(), TimeUnit.SECONDS);
                // Messages come in order on the client's one pub/sub connection: once this one is
                // delivered, every event above is queued for the slow listener.
                direct.sync().publish(Keys.of(task).events(2), progress(task, 2, 1));
                marker.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
                release.countDown();
                Wait.until("the slow listener to catch up", LIMIT, () -> seen.getLast() == published);
            } finally {
                release.countDown();
            }
            assertEquals(1 + 10_000, seen.size(), "the event it was on, then the 10,000 newest");
            assertEquals(published - 10_000 + 1, seen.get(1), "the oldest waiting were dropped");
            for (int i = 2; i < seen.size(); i++) {
                assertEquals(seen.get(i - 1) + 1, seen.get(i), "in the order published");
            }
        }
    }

    private static String progress(String task, long id, long current) {
        return "{\"event\":\"progress\",\"task\":\"" + task + "\",\"id\":" + id + ",\"current\":" + current + "}";
    }
}
