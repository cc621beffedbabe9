package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.TcpProxy;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A subscription made while Redis is away is made once Redis is back, and one made before a cut
 * is made again after it: the listener hears events published after that, not silence for the
 * client's life. A Redis of its own, killed and started again on the same port.
 */
class SubscriptionHealingTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private LocalRedis redis;

    @BeforeEach
    void start() {
        redis = LocalRedis.start();
    }

    @AfterEach
    void stop() {
        redis.close();
    }

    private static String event(String task, long id, long current) {
        return "{\"event\":\"progress\",\"task\":\"" + task + "\",\"id\":" + id + ",\"current\":" + current + "}";
    }

    /**
     * Publishes events to the task's channel until the listener has one: pub/sub keeps nothing for
     * a subscriber that is not there yet, so one publish could come before the subscription.
     */
    private static void publishUntilHeard(String task, long id, List<TaskEvent> heard, String uri) {
        try (RedisConnector direct = RedisConnector.connect(uri)) {
            String channel = Keys.of(task).events(id);
            long[] sent = {0};
            Wait.until("the listener to hear an event of " + task + " #" + id + " after Redis came back", LIMIT, () -> {
                direct.sync().publish(channel, event(task, id, ++sent[0]));
                return !heard.isEmpty();
            });
        }
        assertEquals(task, heard.getFirst().task());
        assertEquals(id, heard.getFirst().id());
    }

    @Test
    void aSubscriptionMadeBeforeThePubSubConnectionCouldBeMadeIsMadeWhenRedisIsBack() {
        String task = TestRedis.uniqueTaskId("heal");
        try (TaskpoolClient client = TaskpoolClient.connect(redis.uri(), COMMAND_TIMEOUT)) {
            redis.kill();
            List<TaskEvent> heard = new CopyOnWriteArrayList<>();
            try (Subscription subscription = client.subscribe(task, 7, heard::add)) {
                redis.restart();
                publishUntilHeard(task, 7, heard, redis.uri());
            }
        }
    }

    @Test
    void aSubscribeThatFailsWhileRedisIsAwayIsMadeWhenRedisIsBack() {
        String task = TestRedis.uniqueTaskId("heal");
        try (TaskpoolClient client = TaskpoolClient.connect(redis.uri(), COMMAND_TIMEOUT)) {
            List<TaskEvent> heardBefore = new CopyOnWriteArrayList<>();
            try (Subscription earlier = client.subscribe(task, 1, heardBefore::add)) {
                // the pub/sub connection is up; now Redis goes away and a new subscribe cannot be confirmed
                redis.kill();
                List<TaskEvent> heard = new CopyOnWriteArrayList<>();
                try (Subscription subscription = client.subscribe(task, 2, heard::add)) {
                    redis.restart();
                    publishUntilHeard(task, 2, heard, redis.uri());
                    publishUntilHeard(task, 1, heardBefore, redis.uri());
                }
            }
        }
    }

    @Test
    void aPatternSubscriptionIsMadeAgainAfterRedisRestarts() {
        String task = TestRedis.uniqueTaskId("heal");
        try (TaskpoolClient client = TaskpoolClient.connect(redis.uri(), COMMAND_TIMEOUT)) {
            List<TaskEvent> heard = new CopyOnWriteArrayList<>();
            try (Subscription subscription = client.subscribeAll(task, heard::add)) {
                redis.kill();
                redis.restart();
                publishUntilHeard(task, 3, heard, redis.uri());
            }
        }
    }

    /**
     * A caller whose subscribe failed (as it did before subscriptions healed) and who subscribes
     * again once Redis is back hears the channel: the failed attempt left nothing that keeps the
     * channel from being subscribed.
     */
    @Test
    void subscribingAgainToAChannelWhoseSubscribeFailedHearsIt() {
        String task = TestRedis.uniqueTaskId("heal");
        try (TaskpoolClient client = TaskpoolClient.connect(redis.uri(), COMMAND_TIMEOUT)) {
            try (Subscription earlier = client.subscribe(task, 1, event -> { })) {
                redis.kill();
                Subscription failed = null;
                try {
                    failed = client.subscribe(task, 2, event -> { });
                } catch (RuntimeException e) {
                    // a caller of old: the subscribe failed, try again later
                }
                redis.restart();
                List<TaskEvent> heard = new CopyOnWriteArrayList<>();
                try (Subscription again = client.subscribe(task, 2, heard::add)) {
                    publishUntilHeard(task, 2, heard, redis.uri());
                } finally {
                    if (failed != null) {
                        failed.close();
                    }
                }
            }
        }
    }

    /** Through a partition (the connection stays open, nothing moves): the SUBSCRIBE is not confirmed, then is. */
    @Test
    void aSubscribeThatTimesOutInAPartitionIsMadeWhenItHeals() {
        String task = TestRedis.uniqueTaskId("heal");
        try (TcpProxy proxy = TcpProxy.start(redis.uri());
             TaskpoolClient client = TaskpoolClient.connect(proxy.uri(), COMMAND_TIMEOUT)) {
            try (Subscription earlier = client.subscribe(task, 1, event -> { })) {
                proxy.partition();
                List<TaskEvent> heard = new CopyOnWriteArrayList<>();
                try (Subscription subscription = client.subscribe(task, 2, heard::add)) {
                    proxy.heal();
                    publishUntilHeard(task, 2, heard, redis.uri());
                }
            }
        }
    }
}
