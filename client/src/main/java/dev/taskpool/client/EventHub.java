package dev.taskpool.client;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.connect.EventChannels;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.ops.TaskReads;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's task events: its subscriptions on one {@link EventChannels} (one pub/sub connection,
 * confirmed subscribes, subscriptions that heal themselves after a cut), each message parsed as a
 * {@link TaskEvent}. A task is followed on the channel of the partition holding it; a kind on the
 * patterns of its task channels outside a Cluster, on its partitions' events channels in one.
 *
 * <p>The connection's I/O thread only parses a message and queues it (see {@link ListenerQueue});
 * listeners run on the client's own virtual threads or on an executor the caller gave.
 */
final class EventHub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventHub.class);

    private final EventChannels channels;
    /** The Redis user, for the words of a refusal. */
    private final String user;
    /** Which partition holds a task: its channel is that partition's. */
    private final TaskReads reads;
    /** Each kind's partitions, whose events a subscription to the whole kind follows. */
    private final KindLayouts layouts;
    /** Where listeners run unless their subscription names an executor: a virtual thread per drain. */
    private final ExecutorService deliveries = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("taskpool-events-", 0).factory());
    /** The queues of the open subscriptions: closing the hub empties them, whichever executor drains them. */
    private final Set<ListenerQueue> queues = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    EventHub(RedisConnector redis, TaskReads reads, KindLayouts layouts) {
        this.channels = new EventChannels(redis);
        this.user = redis.user();
        this.reads = reads;
        this.layouts = layouts;
    }

    /**
     * Delivers the events of task {@code id} of {@code task} to {@code listener} through
     * {@code executor} (null: the hub's virtual threads), from the channel of the partition holding
     * it; an ACL refusal becomes one line naming the rule to add.
     */
    Subscription subscribeTask(String task, long id, Consumer<TaskEvent> listener, Executor executor) {
        String channel = Keys.of(partitionOf(task, id)).events(id);
        try {
            return subscribe(channel, listener, executor);
        } catch (RuntimeException e) {
            throw AclRefusal.ofSubscription(e, user, channel);
        }
    }

    /**
     * The partition holding task {@code id}; when Redis cannot be asked (it is away: the
     * subscription is then made when it is back), the one the id names in the layout this client
     * last read, else the kind's own, so that a subscription never waits for Redis to be reachable.
     */
    private String partitionOf(String task, long id) {
        try {
            return reads.partitionOf(task, id);
        } catch (TaskpoolException e) {
            Keys named = Keys.of(task);
            String partition = named.partition().equals(named.task()) ? layouts.cached(named.task())
                    .map(layout -> layout.ofId(id).partition()).orElse(named.task()) : named.partition();
            log.warn("cannot look up which partition holds task {} #{} ({}); subscribing to partition {}", task, id,
                    e.getMessage(), partition);
            return partition;
        }
    }

    /**
     * Delivers the events of every task of a kind (or of the partition {@code task} names) to
     * {@code listener}: in a Cluster from the events channel of each of its partitions, else from
     * the kind's patterns; an ACL refusal becomes one line naming the rule to add.
     */
    Subscription subscribeKind(String task, Consumer<TaskEvent> listener, Executor executor) {
        Keys keys = Keys.of(task);
        if (channels.sharded()) {
            // (sharded pub/sub has no patterns: the events channel of each partition, or of the partition named)
            return subscribeAll(keys.partition().equals(keys.task()) ? layouts.of(keys.task()).all()
                    : List.of(keys), listener, executor);
        }
        List<String> patterns = keys.partition().equals(keys.task()) && layouts.of(keys.task()).partitioned()
                ? List.of(keys.eventsPattern(), keys.partitionsEventsPattern())
                : List.of(keys.eventsPattern());
        try {
            return psubscribe(patterns, listener, executor);
        } catch (RuntimeException e) {
            throw AclRefusal.ofSubscription(e, user, refusedOf(e, patterns));
        }
    }

    /** Which of {@code patterns} Redis refused (its reply names it), for the rule to add; the first when it names none. */
    private static String refusedOf(RuntimeException failure, List<String> patterns) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            for (String pattern : patterns.reversed()) {
                if (String.valueOf(cause.getMessage()).contains(pattern)) {
                    return pattern;
                }
            }
        }
        return patterns.getFirst();
    }

    /** Delivers the events of {@code channel} to {@code listener} through {@code executor} (null: the hub's virtual threads). */
    private Subscription subscribe(String channel, Consumer<TaskEvent> listener, Executor executor) {
        ListenerQueue queue = queue(channel, listener, executor);
        try {
            return subscription(queue, channels.subscribe(channel, (ignored, message) -> deliver(queue, message)));
        } catch (RuntimeException e) {
            closeQueue(queue);
            throw e;
        }
    }

    /**
     * Delivers the events of every task of the partitions {@code tags} (a kind's, or one of them) to
     * {@code listener}, in one queue: outside a Cluster through the pattern of each
     * ({@link Keys#eventsPattern()}), in one through their events channels ({@link Keys#kindEvents()}:
     * shard channels have no patterns).
     *
     * @throws RuntimeException naming the ACL rule to add when Redis refuses a subscription to the user
     */
    private Subscription subscribeAll(List<Keys> tags, Consumer<TaskEvent> listener, Executor executor) {
        ListenerQueue queue = queue(tags.getFirst().eventsPattern(), listener, executor);
        List<EventChannels.Subscription> made = new ArrayList<>();
        String name = null;
        try {
            for (Keys keys : tags) {
                name = channels.sharded() ? keys.kindEvents() : keys.eventsPattern();
                EventChannels.Listener deliver = (ignored, message) -> deliver(queue, message);
                made.add(channels.sharded() ? channels.subscribe(name, deliver) : channels.psubscribe(name, deliver));
            }
        } catch (RuntimeException e) {
            closeQueue(queue);
            made.forEach(EventChannels.Subscription::close);
            throw AclRefusal.ofSubscription(e, user, name);
        }
        return () -> {
            closeQueue(queue);
            made.forEach(EventChannels.Subscription::close);
        };
    }

    /**
     * Delivers the events of every channel matching any of {@code patterns} (a kind's, outside a
     * Cluster: two for a partitioned kind) to {@code listener} through one queue: one event at a
     * time. When one pattern is refused, those subscribed before it are closed again.
     */
    private Subscription psubscribe(List<String> patterns, Consumer<TaskEvent> listener, Executor executor) {
        ListenerQueue queue = queue(String.join(" ", patterns), listener, executor);
        List<EventChannels.Subscription> subscribed = new ArrayList<>();
        try {
            for (String pattern : patterns) {
                subscribed.add(channels.psubscribe(pattern, (ignored, message) -> deliver(queue, message)));
            }
        } catch (RuntimeException e) {
            closeQueue(queue);
            subscribed.forEach(EventChannels.Subscription::close);
            throw e;
        }
        return () -> {
            closeQueue(queue);
            subscribed.forEach(EventChannels.Subscription::close);
        };
    }

    private ListenerQueue queue(String source, Consumer<TaskEvent> listener, Executor executor) {
        if (closed) {
            throw new IllegalStateException("the client is closed: no subscription to " + source);
        }
        ListenerQueue queue = new ListenerQueue(source, listener, executor == null ? deliveries : executor);
        queues.add(queue);
        return queue;
    }

    private void closeQueue(ListenerQueue queue) {
        queue.close();
        queues.remove(queue);
    }

    private Subscription subscription(ListenerQueue queue, EventChannels.Subscription subscribed) {
        return () -> {
            closeQueue(queue);
            subscribed.close();
        };
    }

    private static void deliver(ListenerQueue queue, String message) {
        TaskEvent event;
        try {
            event = TaskEvent.parse(message);
        } catch (RuntimeException e) {
            log.warn("ignoring a malformed event message: {}", message);
            return;
        }
        queue.offer(event, message.length());
    }

    /** Closes the connection, stops retrying, and interrupts listeners still running on the hub's threads. */
    @Override
    public void close() {
        closed = true;
        channels.close();
        queues.forEach(ListenerQueue::close);
        queues.clear();
        deliveries.shutdownNow();
    }
}
