package dev.taskpool.client;

import dev.taskpool.core.model.TaskEvent;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pub/sub connection shared by every subscription of a client. Redis is subscribed to a
 * channel (or pattern) while at least one listener wants it. A subscribe waits until Redis has
 * confirmed it (at most a command timeout), so a caller that then reads the task hash cannot miss
 * a later event.
 *
 * <p>Subscriptions heal themselves: when the connection cannot be made, a SUBSCRIBE is not
 * confirmed (Redis away, a partition), or the connection comes back after a cut, the hub's own
 * thread connects and subscribes again, with growing pauses, until Redis confirms each wanted
 * channel or its last listener leaves. Events published meanwhile are lost (pub/sub keeps none).
 *
 * <p>Lettuce's I/O thread only parses a message and queues it (see {@link ListenerQueue});
 * listeners run on the client's own virtual threads or on an executor the caller gave.
 */
final class EventHub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventHub.class);
    private static final Duration FIRST_RETRY = Duration.ofMillis(200);
    private static final Duration LONGEST_RETRY = Duration.ofSeconds(5);

    /** A channel or pattern some listeners want, and whether Redis confirmed it on the current connection. */
    private static final class Interest {
        final String name;
        final boolean pattern;
        final List<ListenerQueue> listeners = new CopyOnWriteArrayList<>();
        /** Completed when Redis confirms the subscription; replaced by a new one when the connection drops. */
        CompletableFuture<Void> confirmed = new CompletableFuture<>();
        /** Whether a (P)SUBSCRIBE of ours is out. */
        boolean sending;
        /**
         * Completed with Redis's error reply when it refused a (P)SUBSCRIBE of this interest (an ACL
         * rule missing): a definite answer, which the subscriber hears at once instead of a retry.
         * Replaced by a new one with each send, so an old refusal never speaks for a later send.
         */
        volatile CompletableFuture<Throwable> refused = new CompletableFuture<>();
        /** When (nanoTime) a refusal of this interest was last logged: a healing retry's refusal is logged once a minute. */
        long refusalLoggedAt;
        boolean refusalLogged;

        Interest(String name, boolean pattern) {
            this.name = name;
            this.pattern = pattern;
        }
    }

    private final Supplier<StatefulRedisPubSubConnection<String, String>> connector;
    private final Duration commandTimeout;
    private final String redisDescription;
    private final Map<String, Interest> channels = new ConcurrentHashMap<>();
    private final Map<String, Interest> patterns = new ConcurrentHashMap<>();
    /** Where listeners run unless their subscription names an executor: a virtual thread per drain. */
    private final ExecutorService deliveries = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("taskpool-events-", 0).factory());
    /** Connects and subscribes again after a failure; one daemon thread, idle unless something failed. */
    private final ScheduledExecutorService healer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("taskpool-resubscribe").factory());
    /** Guards making the connection (which may block) apart from the hub's state. */
    private final Object connecting = new Object();
    private volatile StatefulRedisPubSubConnection<String, String> connection;
    private boolean healScheduled;
    private Duration retryPause = FIRST_RETRY;
    private volatile boolean closed;

    /** @param connector makes the pub/sub connection (it throws when Redis cannot be reached) */
    EventHub(Supplier<StatefulRedisPubSubConnection<String, String>> connector, Duration commandTimeout,
             String redisDescription) {
        this.connector = connector;
        this.commandTimeout = commandTimeout;
        this.redisDescription = redisDescription;
    }

    /** Delivers the events of {@code channel} to {@code listener} through {@code executor} (null: the hub's virtual threads). */
    Subscription subscribe(String channel, Consumer<TaskEvent> listener, Executor executor) {
        return add(channels, new Interest(channel, false), listener, executor);
    }

    /** As {@link #subscribe}, for every channel matching {@code pattern}. */
    Subscription psubscribe(String pattern, Consumer<TaskEvent> listener, Executor executor) {
        return add(patterns, new Interest(pattern, true), listener, executor);
    }

    private Subscription add(Map<String, Interest> registry, Interest fresh, Consumer<TaskEvent> listener, Executor executor) {
        ListenerQueue queue = new ListenerQueue(fresh.name, listener, executor == null ? deliveries : executor);
        Interest interest;
        CompletableFuture<Void> confirmed;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the client is closed: no subscription to " + fresh.name);
            }
            interest = registry.computeIfAbsent(fresh.name, name -> fresh);
            interest.listeners.add(queue);
            confirmed = interest.confirmed;
        }
        if (!confirmed.isDone() && connection() != null) {
            CompletableFuture<Throwable> refused;
            synchronized (this) {
                send(interest);
                refused = interest.refused;   // the answer to this send: a later send (healing) replaces it
            }
            awaitConfirmation(interest, confirmed, refused);
            Throwable refusal = refused.getNow(null);
            if (!confirmed.isDone() && refusal != null) {
                remove(registry, interest, queue);
                throw refusal instanceof RuntimeException runtime ? runtime : new IllegalStateException(refusal);
            }
        }
        Interest subscribed = interest;
        return () -> remove(registry, subscribed, queue);
    }

    private void awaitConfirmation(Interest interest, CompletableFuture<Void> confirmed, CompletableFuture<Throwable> refused) {
        try {
            CompletableFuture.anyOf(confirmed, refused).get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!confirmed.isDone() && refused.isDone()) {
                return;   // the caller throws Redis's refusal
            }
        } catch (TimeoutException | ExecutionException e) {
            log.warn("Redis at {} did not confirm the subscription to {} within {} ms; it is made as soon as Redis"
                    + " answers (events published until then are not delivered)", redisDescription, interest.name,
                    commandTimeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void remove(Map<String, Interest> registry, Interest interest, ListenerQueue queue) {
        queue.close();
        synchronized (this) {
            if (!interest.listeners.remove(queue) || !interest.listeners.isEmpty() || !registry.remove(interest.name, interest)) {
                return;
            }
            StatefulRedisPubSubConnection<String, String> current = connection;
            if (current == null || closed) {
                return;
            }
            try {
                // Sent under the hub's lock, as every (P)SUBSCRIBE is: Redis sees them in the order of the hub's state.
                if (interest.pattern) {
                    current.async().punsubscribe(interest.name);
                } else {
                    current.async().unsubscribe(interest.name);
                }
            } catch (RuntimeException e) {
                log.debug("unsubscribe from {} failed: {}", interest.name, e.getMessage());
            }
        }
    }

    /** The connection, made now when there is none yet; null (and a retry scheduled) when Redis cannot be reached. */
    private StatefulRedisPubSubConnection<String, String> connection() {
        StatefulRedisPubSubConnection<String, String> current = connection;
        if (current != null || closed) {
            return current;
        }
        synchronized (connecting) {
            if (connection != null || closed) {
                return connection;
            }
            StatefulRedisPubSubConnection<String, String> made;
            try {
                made = connector.get();
            } catch (RuntimeException e) {
                log.warn("cannot connect to Redis at {} for events ({}); trying again until it answers", redisDescription,
                        e.getMessage());
                scheduleHeal(true);
                return null;
            }
            made.addListener(new Messages());
            made.addListener(new Reconnects());
            connection = made;
            if (closed) {
                made.closeAsync();
                return null;
            }
            scheduleHeal(false);   // what was wanted while there was no connection is subscribed now
            return made;
        }
    }

    /** Sends a (P)SUBSCRIBE for {@code interest} unless Redis confirmed it or one is out. Called under the hub's lock. */
    private void send(Interest interest) {
        StatefulRedisPubSubConnection<String, String> current = connection;
        if (current == null || closed || interest.sending || interest.confirmed.isDone()) {
            return;
        }
        CompletableFuture<Void> target = interest.confirmed;
        if (interest.refused.isDone()) {
            interest.refused = new CompletableFuture<>();
        }
        CompletableFuture<Throwable> refusal = interest.refused;
        interest.sending = true;
        CompletableFuture<Void> reply;
        try {
            reply = (interest.pattern ? current.async().psubscribe(interest.name) : current.async().subscribe(interest.name))
                    .toCompletableFuture();
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((ignored, error) -> onHealer(() -> {
            synchronized (this) {
                interest.sending = false;
                if (error == null) {
                    target.complete(null);
                    retryPause = FIRST_RETRY;
                    return;
                }
            }
            if (error instanceof RedisCommandExecutionException) {
                refusal.complete(error);   // Redis answered no; healing tries again while someone listens
                logRefusal(interest, error);
            } else {
                log.debug("subscribing to {} failed: {}", interest.name, error.getMessage());
            }
            scheduleHeal(true);
        }));
    }

    /**
     * A refused (P)SUBSCRIBE (an ACL rule taken away, say) is said at warn level, once a minute per
     * channel: when healing meets it nobody else hears of it, and the subscription stays silent.
     */
    private void logRefusal(Interest interest, Throwable error) {
        long now = System.nanoTime();
        synchronized (this) {
            if (interest.refusalLogged && now - interest.refusalLoggedAt < TimeUnit.MINUTES.toNanos(1)) {
                return;
            }
            interest.refusalLogged = true;
            interest.refusalLoggedAt = now;
        }
        log.warn("Redis at {} refused the subscription to {} ({}); no event of it is delivered, and it is asked again"
                + " while someone listens", redisDescription, interest.name, error.getMessage());
    }

    /**
     * Runs {@link #heal}: after a failure, once after the retry pause (which grows while retries
     * fail) unless one is scheduled; else (a new connection) at once.
     */
    private void scheduleHeal(boolean afterFailure) {
        Duration pause = Duration.ZERO;
        synchronized (this) {
            if (closed || (afterFailure && healScheduled)) {
                return;
            }
            healScheduled = true;
            if (afterFailure) {
                pause = retryPause;
                retryPause = retryPause.multipliedBy(2).compareTo(LONGEST_RETRY) > 0 ? LONGEST_RETRY : retryPause.multipliedBy(2);
            }
        }
        try {
            healer.schedule(this::heal, pause.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            synchronized (this) {
                healScheduled = false;   // the hub is closing
            }
        }
    }

    /** Connects if needed, then subscribes every wanted channel and pattern Redis has not confirmed. */
    private void heal() {
        synchronized (this) {
            healScheduled = false;
        }
        if (closed || connection() == null) {
            return;
        }
        synchronized (this) {
            channels.values().forEach(this::send);
            patterns.values().forEach(this::send);
        }
    }

    /** Hands each message to the queues of the listeners that want it; runs on Lettuce's I/O thread, never blocks. */
    private final class Messages extends RedisPubSubAdapter<String, String> {
        @Override
        public void message(String channel, String message) {
            deliver(channels.get(channel), message);
        }

        @Override
        public void message(String pattern, String channel, String message) {
            deliver(patterns.get(pattern), message);
        }

        @Override
        public void subscribed(String channel, long count) {
            onHealer(() -> endIfUnwanted(channels, channel, false));
        }

        @Override
        public void psubscribed(String pattern, long count) {
            onHealer(() -> endIfUnwanted(patterns, pattern, true));
        }
    }

    /**
     * Redis confirmed a subscription: ours, or one Lettuce made again by itself after a reconnect.
     * One nobody wants any more (its UNSUBSCRIBE was lost with a connection) is ended. A wanted one
     * counts as confirmed only by the reply to our own (P)SUBSCRIBE: this confirmation may be of
     * an earlier subscription to the same name, since ended.
     */
    private void endIfUnwanted(Map<String, Interest> registry, String name, boolean pattern) {
        synchronized (this) {
            StatefulRedisPubSubConnection<String, String> current = connection;
            if (registry.containsKey(name) || current == null || closed) {
                return;
            }
            // Under the hub's lock, as every (P)SUBSCRIBE is: a later subscription to the name goes after this.
            if (pattern) {
                current.async().punsubscribe(name);
            } else {
                current.async().unsubscribe(name);
            }
        }
    }

    /** A dropped connection unconfirms every subscription; a new one gets them all again (see {@link #heal}). */
    private final class Reconnects implements RedisConnectionStateListener {
        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> ignored) {
            onHealer(EventHub.this::unconfirmAll);
        }

        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> ignored, SocketAddress address) {
            onHealer(() -> scheduleHeal(false));
        }
    }

    private synchronized void unconfirmAll() {
        for (Map<String, Interest> registry : List.of(channels, patterns)) {
            for (Interest interest : registry.values()) {
                if (interest.confirmed.isDone()) {
                    interest.confirmed = new CompletableFuture<>();
                }
            }
        }
    }

    /**
     * Runs {@code step} on the hub's thread, in the order given: what Lettuce's I/O thread reports
     * is handled there, so that thread never waits for the hub's lock (a thread holding it may be
     * handing Lettuce a command).
     */
    private void onHealer(Runnable step) {
        try {
            healer.execute(step);
        } catch (RuntimeException e) {
            log.debug("the event hub is closed: {}", e.getMessage());
        }
    }

    private static void deliver(Interest interest, String message) {
        if (interest == null || interest.listeners.isEmpty()) {
            return;
        }
        TaskEvent event;
        try {
            event = TaskEvent.parse(message);
        } catch (RuntimeException e) {
            log.warn("ignoring a malformed event message: {}", message);
            return;
        }
        for (ListenerQueue queue : interest.listeners) {
            queue.offer(event, message.length());
        }
    }

    /** Closes the connection, stops retrying, and interrupts listeners still running on the hub's threads. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (Map<String, Interest> registry : List.of(channels, patterns)) {
                registry.values().forEach(interest -> interest.listeners.forEach(ListenerQueue::close));
                registry.clear();
            }
        }
        healer.shutdownNow();
        deliveries.shutdownNow();
        synchronized (connecting) {
            if (connection != null) {
                connection.close();
            }
        }
    }
}
