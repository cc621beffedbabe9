package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The client's view of a kind with {@code partitions: 3}: adds land in every partition, and get,
 * progress, a task's subscription, await and a whole-kind subscription each find the task in the
 * partition that holds it (a task from before the kind was partitioned too).
 */
class PartitionedClientTest {
    private static final Duration KEEP = Duration.ofSeconds(60);
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("partclient");

    private void publish(String task, int partitions) {
        new AddStore(fixture.redis()).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                Duration.ofSeconds(5), 1000, "scripts.x.Run", TaskEvents.NONE, KEEP, Backoff.FIXED, FlowControl.NONE,
                partitions));
    }

    /** Ends every waiting task of one partition in SUCCESS, as a worker of it would. */
    private static void finishWaiting(RedisConnector direct, String partition) throws Exception {
        RunStore runs = new RunStore(direct);
        long now = System.currentTimeMillis();
        for (FetchedTask run : runs.fetch(partition, 100, now, now + 60_000, "test-worker", KEEP).get(60, TimeUnit.SECONDS)) {
            runs.complete(run, TaskStatus.SUCCESS, "{\"ok\":true}", System.currentTimeMillis(), KEEP).get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyReadAndSubscriptionFindsTheTaskInItsPartition() throws Exception {
        String task = fixture.task();
        publish(task, 3);
        KindLayout layout = KindLayout.fromDefinition(task, fixture.raw().hgetall(Keys.of(task).definition()));
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(client.add(task, i).id());
            }
            Set<Integer> partitions = new TreeSet<>();
            ids.forEach(id -> partitions.add(layout.numberOfId(id)));
            assertEquals(Set.of(0, 1, 2), partitions, "the adds went to every partition: " + ids);

            Set<Long> heardOfKind = ConcurrentHashMap.newKeySet();
            Set<Long> heardOfTasks = ConcurrentHashMap.newKeySet();
            List<Subscription> subscriptions = new ArrayList<>();
            subscriptions.add(client.subscribeAll(task, event -> heardOfKind.add(event.id())));
            for (long id : ids) {
                subscriptions.add(client.subscribe(task, id, event -> {
                    if (event.event().equals("progress") && event.id() == id) {
                        heardOfTasks.add(id);
                    }
                }));
            }
            for (long id : ids) {
                assertEquals(TaskStatus.WAITING, client.get(task, id).map(TaskInfo::status).orElseThrow());
                client.progress(task, id, 1, 2, "half");
                assertEquals("1", fixture.raw().hget(layout.ofId(id).task(id), "current"), "progress in its partition");
            }
            Wait.until("each task's subscription hears its progress", LIMIT, () -> heardOfTasks.containsAll(ids));
            Wait.until("the kind's subscription hears every partition", LIMIT, () -> heardOfKind.containsAll(ids));

            long last = ids.get(2);
            CompletableFuture<TaskInfo> awaited = CompletableFuture.supplyAsync(() -> client.await(task, last, LIMIT));
            finishWaiting(fixture.redis(), layout.ofId(last).partition());
            assertEquals(TaskStatus.SUCCESS, awaited.get(60, TimeUnit.SECONDS).status());
            subscriptions.forEach(Subscription::close);
        }
    }

    @Test
    void aTaskFromBeforeTheKindWasPartitionedIsReadAndFollowedWhereItIs() throws Exception {
        String task = fixture.task();
        publish(task, 1);
        long old;
        try (TaskpoolClient before = TaskpoolClient.connect(fixture.uri())) {
            before.add(task, "a");
            old = before.add(task, "b").id();
        }
        assertEquals(2, old, "an unpartitioned kind's second id");
        publish(task, 3);
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            // #2 ends in partition 2's number but stays in partition 0
            assertTrue(client.get(task, old).isPresent());
            List<TaskEvent> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
            try (Subscription ignored = client.subscribe(task, old, heard::add)) {
                client.progress(task, old, 1, 1, "done soon");
                assertEquals("1", fixture.raw().hget(Keys.of(task).task(old), "current"));
                Wait.until("the subscription hears the progress", LIMIT, () -> !heard.isEmpty());
            }
            CompletableFuture<TaskInfo> awaited = CompletableFuture.supplyAsync(() -> client.await(task, old, LIMIT));
            finishWaiting(fixture.redis(), task);
            assertEquals(TaskStatus.SUCCESS, awaited.get(60, TimeUnit.SECONDS).status());
        }
    }
}
