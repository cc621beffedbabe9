package dev.taskpool.core.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The pub/sub seam on a real Redis: a subscribe returns once Redis confirmed it (so a message
 * published right after is heard), listeners of one channel share one Redis subscription, and
 * Redis is unsubscribed when the last of them leaves. (Healing after a cut: SubscriptionHealingTest
 * in the client module.)
 */
class EventChannelsTest {
    private static final Duration LIMIT = Duration.ofSeconds(30);

    private static long subscribers(RedisConnector redis, String channel) {
        Map<String, Long> counts = redis.sync().pubsubNumsub(channel);
        return counts.getOrDefault(channel, 0L);
    }

    @Test
    void aConfirmedSubscriptionHearsTheNextMessageAndEndsWithItsLastListener() {
        String channel = "taskpool:{" + TestRedis.uniqueTaskId("channels") + "}:events:1";
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri());
             EventChannels channels = new EventChannels(redis)) {
            List<String> first = new CopyOnWriteArrayList<>();
            List<String> second = new CopyOnWriteArrayList<>();
            EventChannels.Subscription one = channels.subscribe(channel, (heard, message) -> first.add(heard + " " + message));
            EventChannels.Subscription two = channels.subscribe(channel, (heard, message) -> second.add(message));
            assertEquals(1, subscribers(redis, channel), "one Redis subscription for both listeners");

            redis.sync().publish(channel, "m1");   // no wait in between: the subscribe was confirmed
            Wait.until("both listeners to hear m1", LIMIT, () -> first.size() == 1 && second.size() == 1);
            assertEquals(channel + " m1", first.getFirst());

            one.close();
            redis.sync().publish(channel, "m2");
            Wait.until("the remaining listener to hear m2", LIMIT, () -> second.size() == 2);
            assertEquals(1, first.size(), "a closed subscription hears nothing more");
            assertEquals(1, subscribers(redis, channel), "Redis stays subscribed while a listener wants the channel");

            two.close();
            Wait.until("Redis to unsubscribe the channel", LIMIT, () -> subscribers(redis, channel) == 0);
        }
    }

    @Test
    void aPatternSubscriptionHearsEveryMatchingChannel() {
        String kind = TestRedis.uniqueTaskId("channels");
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri());
             EventChannels channels = new EventChannels(redis)) {
            List<String> heard = new CopyOnWriteArrayList<>();
            try (EventChannels.Subscription ignored = channels.psubscribe("taskpool:{" + kind + "}:events:*",
                    (channel, message) -> heard.add(channel + " " + message))) {
                redis.sync().publish("taskpool:{" + kind + "}:events:1", "a");
                redis.sync().publish("taskpool:{" + kind + "}:control", "not matched");
                redis.sync().publish("taskpool:{" + kind + "}:events:2", "b");
                Wait.until("both task channels' messages", LIMIT, () -> heard.size() == 2);
                assertEquals(List.of("taskpool:{" + kind + "}:events:1 a", "taskpool:{" + kind + "}:events:2 b"), heard);
            }
        }
    }

    @Test
    void aListenerThatThrowsSpoilsNothingForTheOthers() {
        String channel = "taskpool:{" + TestRedis.uniqueTaskId("channels") + "}:events:1";
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri());
             EventChannels channels = new EventChannels(redis)) {
            List<String> heard = new CopyOnWriteArrayList<>();
            channels.subscribe(channel, (ignored, message) -> {
                throw new IllegalStateException("a broken listener");
            });
            channels.subscribe(channel, (ignored, message) -> heard.add(message));
            redis.sync().publish(channel, "m1");
            redis.sync().publish(channel, "m2");
            Wait.until("the other listener to hear both", LIMIT, () -> heard.size() == 2);
            assertTrue(heard.containsAll(List.of("m1", "m2")));
        }
    }
}
