package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.support.LocalRedis;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * On a standalone Redis the hot-path scripts publish an event only when someone would receive
 * it: what a subscriber sees is unchanged, what nobody hears costs no PUBLISH. Each case runs on a
 * Redis of its own, so that its PUBLISH count (INFO commandstats) is its own.
 */
class EventModeTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final String TASK = "heard";

    @Test
    void aTaskNobodyListensToCostsNoPublish() {
        try (LocalRedis server = LocalRedis.start(); RedisConnector redis = RedisConnector.connect(server.uri())) {
            AddStore addStore = new AddStore(redis);
            RunStore runStore = new RunStore(redis);
            TaskReads taskReads = new TaskReads(redis);
            addStore.publish(RunStoreTest.definition(TASK, 100, 0));
            runThreeTasks(addStore, runStore);
            assertEquals(3, taskReads.stats(TASK).get("succeeded"));
            assertEquals(0, publishCalls(redis), "no subscriber, no pattern: no event is published");
        }
    }

    @Test
    void anAwaitedTaskGetsEveryEventInOrderAndOnlyItsOwnArePublished() throws Exception {
        try (LocalRedis server = LocalRedis.start(); RedisConnector redis = RedisConnector.connect(server.uri());
             StatefulRedisPubSubConnection<String, String> listener = redis.newPubSubConnection()) {
            AddStore addStore = new AddStore(redis);
            RunStore runStore = new RunStore(redis);
            TaskReads taskReads = new TaskReads(redis);
            addStore.publish(RunStoreTest.definition(TASK, 100, 0));
            BlockingQueue<String> heard = listen(listener);
            listener.sync().subscribe(Keys.of(TASK).events(2));   // task 2 gets the counter's second id
            runThreeTasks(addStore, runStore);
            assertEquals(List.of("added", "started", "success"), List.of(event(heard), event(heard), event(heard)));
            assertEquals(3, publishCalls(redis), "only the subscribed task's three events are published");
        }
    }

    @Test
    void aPatternSubscriptionGetsEveryEventOfEveryTask() throws Exception {
        try (LocalRedis server = LocalRedis.start(); RedisConnector redis = RedisConnector.connect(server.uri());
             StatefulRedisPubSubConnection<String, String> listener = redis.newPubSubConnection()) {
            AddStore addStore = new AddStore(redis);
            RunStore runStore = new RunStore(redis);
            TaskReads taskReads = new TaskReads(redis);
            addStore.publish(RunStoreTest.definition(TASK, 100, 0));
            BlockingQueue<String> heard = listen(listener);
            listener.sync().psubscribe(Keys.of(TASK).eventsPattern());
            runThreeTasks(addStore, runStore);
            for (int i = 0; i < 9; i++) {
                assertTrue(event(heard).matches("added|started|success"));
            }
            assertEquals(9, publishCalls(redis), "a pattern subscriber hears every event");
        }
    }

    @Test
    void aUserWhoseAclRulesPredatePubsubQuestionsLosesNothingAndHearsEverything() {
        try (LocalRedis server = LocalRedis.start(); RedisConnector admin = RedisConnector.connect(server.uri())) {
            // Every command the scripts use but PUBSUB (the rules of the release before it).
            admin.sync().aclSetuser("older", AclSetuserArgs.Builder.on().addPassword("secret")
                    .keyPattern("taskpool:*").channelPattern("taskpool:*").allCommands()
                    .removeCommand(CommandType.PUBSUB));
            try (RedisConnector older = RedisConnector.connect(server.uri().replace("redis://", "redis://older:secret@"))) {
                AddStore addStore = new AddStore(older);
                RunStore runStore = new RunStore(older);
                TaskReads taskReads = new TaskReads(older);
                addStore.publish(RunStoreTest.definition(TASK, 100, 0));
                runThreeTasks(addStore, runStore);
                assertEquals(3, taskReads.stats(TASK).get("succeeded"), "every task fetched was run and ended: none lost half-way");
                assertEquals(0, older.sync().llen(Keys.of(TASK).waiting()));
                assertEquals(9, publishCalls(admin), "refused the question, the scripts publish every event, as before");
            }
        }
    }

    @Test
    void theEnvironmentSettingIsHeardOrAllAndNothingElse() {
        assertFalse(EventMode.parse(null));
        assertFalse(EventMode.parse("heard"));
        assertTrue(EventMode.parse("ALL"));
        TaskpoolException e = assertThrows(TaskpoolException.class, () -> EventMode.parse("some"));
        assertTrue(e.getMessage().contains("TASKPOOL_EVENTS must be heard") && e.getMessage().contains("got 'some'"),
                e.getMessage());
    }

    /** Adds three tasks, then one round trip takes them and the next ends them in SUCCESS. */
    private static void runThreeTasks(AddStore addStore, RunStore runStore) {
        for (int i = 0; i < 3; i++) {
            addStore.add(TASK, null, "[" + i + "]", NOW);
        }
        List<FetchedTask> runs = runStore.finish(TASK, "w", List.of(), 10, NOW, NOW + 10_000, Duration.ofHours(1)).join().fetched();
        assertEquals(3, runs.size());
        runStore.finish(TASK, "w", runs.stream().map(run -> new RunStore.Completion(run, TaskStatus.SUCCESS, "1")).toList(),
                0, NOW + 1, NOW + 10_000, Duration.ofHours(1)).join();
    }

    private static BlockingQueue<String> listen(StatefulRedisPubSubConnection<String, String> connection) {
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                heard.add(message);
            }

            @Override
            public void message(String pattern, String channel, String message) {
                heard.add(message);
            }
        });
        return heard;
    }

    /** The next event's name; fails when none comes within 30 s. */
    private static String event(BlockingQueue<String> heard) throws InterruptedException {
        String message = heard.poll(30, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("no event came within 30 s");
        }
        return message.replaceAll("^\\{\"event\":\"([a-z]+)\".*$", "$1");
    }

    private static long publishCalls(RedisConnector redis) {
        for (String line : redis.sync().info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_publish:")) {
                return Long.parseLong(line.replaceAll("^cmdstat_publish:calls=(\\d+),.*", "$1"));
            }
        }
        return 0;
    }
}
