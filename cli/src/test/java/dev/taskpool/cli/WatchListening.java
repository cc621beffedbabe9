package dev.taskpool.cli;

import dev.taskpool.core.connect.RedisConnector;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Waits until a {@code watch} a test started listens, before the test publishes: {@code watch TASK
 * ID} subscribes to the task's channel; {@code watch} and {@code watch TASK} to the two patterns of
 * every kind (events and control, as the dashboard does). PUBSUB NUMSUB does not count pattern
 * subscriptions; CLIENT LIST does.
 */
final class WatchListening {
    private WatchListening() {
    }

    /** Waits until someone subscribed to {@code channel}; fails at once if the watch ended instead, and after {@code wait}. */
    static void awaitChannel(RedisConnector connector, String channel, CompletableFuture<?> watching, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (connector.sync().pubsubNumsub(channel).getOrDefault(channel, 0L) == 0) {
            waitMore(watching, deadline, "the watch did not subscribe to " + channel + " within " + wait);
        }
    }

    /** The ids of the connections subscribed to two patterns now: take it before starting the watch. */
    static Set<String> patternSubscribers(String redis) {
        try (RedisConnector connector = RedisConnector.connect(redis)) {
            return new HashSet<>(ids(connector));
        }
    }

    /**
     * Waits until a connection not in {@code before} has subscribed to two patterns; fails at once
     * if the watch ended instead, and after {@code wait}.
     */
    static void awaitPatterns(String redis, Set<String> before, CompletableFuture<?> watching, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        try (RedisConnector connector = RedisConnector.connect(redis)) {
            while (before.containsAll(ids(connector))) {
                waitMore(watching, deadline, "the watch did not subscribe to the patterns of every kind within " + wait);
            }
        }
    }

    private static void waitMore(CompletableFuture<?> watching, long deadline, String timedOut) {
        if (watching.isDone()) {
            throw new AssertionError("the watch ended before it subscribed: " + watching.join());
        }
        if (System.nanoTime() > deadline) {
            throw new AssertionError(timedOut);
        }
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static List<String> ids(RedisConnector connector) {
        return connector.sync().clientList().lines().filter(line -> line.contains(" psub=2 "))
                .map(line -> line.substring(0, line.indexOf(' '))).toList();
    }
}
