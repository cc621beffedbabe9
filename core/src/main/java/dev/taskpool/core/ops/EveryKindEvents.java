package dev.taskpool.core.ops;

import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.connect.EventChannels;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.KindLayouts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every kind's task events and control messages, as operators' views follow them (the dashboard,
 * {@code taskpool watch}), on an {@link EventChannels} of their own.
 *
 * <p>On a standalone or Sentinel-managed Redis: two patterns ({@link Keys#allEventsPattern()},
 * {@link Keys#allControlPattern()}). Kinds published later are followed at once, and an ACL user
 * needs only these two patterns among its channel rules, whatever the kinds (Redis compares a
 * pattern literally with the rules, so a per-kind pattern would need a rule per kind).
 *
 * <p>In a Redis Cluster, where events are on shard channels and sharded pub/sub has no patterns:
 * each kind's events channel ({@link Keys#kindEvents()}) and control channel, for every kind in
 * the registry ({@link Keys#TASK_REGISTRY}), read again every {@link #KINDS_REREAD}: a kind
 * published later is followed within that time (its events until then are not seen). Each
 * subscription is on the master of its kind's slot, so a kind's events stay on its shard.
 */
public final class EveryKindEvents implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EveryKindEvents.class);
    /** How often, in a Cluster, the kinds' registry is read again for kinds published since. */
    public static final Duration KINDS_REREAD = Duration.ofSeconds(5);

    /** Hears one message; runs on the connection's I/O thread, so it must return at once (see {@link EventChannels}). */
    @FunctionalInterface
    public interface Listener {
        /** @param kind the kind the channel belongs to; null for a channel that names none */
        void message(String kind, String channel, String message);
    }

    private final EventChannels channels;
    private final RedisConnector redis;
    private final Listener listener;
    /** In a Cluster: the subscriptions of each kind followed. Guarded by this. */
    private final Map<String, List<EventChannels.Subscription>> kinds = new HashMap<>();
    /** Each kind's partitions (read again at each look: a kind may gain some). */
    private final KindLayouts layouts;
    /** In a Cluster, following every kind: reads the registry again. */
    private ScheduledExecutorService rereads;
    private volatile boolean closed;

    private EveryKindEvents(EventChannels channels, RedisConnector redis, Listener listener) {
        this.layouts = new KindLayouts(redis);
        this.channels = channels;
        this.redis = redis;
        this.listener = listener;
    }

    /**
     * Follows every kind; returns once Redis confirmed the subscriptions, so a reader that starts
     * after this misses no later message, or after the command timeout when Redis does not answer
     * (they are then made as soon as it is back; see {@link EventChannels}).
     *
     * @throws RuntimeException naming the ACL rule to add when Redis refuses a subscription to the user
     */
    public static EveryKindEvents follow(RedisConnector redis, Listener listener) {
        return follow(redis, null, listener);
    }

    /**
     * As {@link #follow(RedisConnector, Listener)}; with {@code kind} not null, a Cluster follows that
     * kind alone (elsewhere every kind's patterns are followed all the same: the listener picks).
     */
    public static EveryKindEvents follow(RedisConnector redis, String kind, Listener listener) {
        EventChannels channels = new EventChannels(redis);
        EveryKindEvents events = new EveryKindEvents(channels, redis, listener);
        try {
            if (!channels.sharded()) {
                for (String pattern : List.of(Keys.allEventsPattern(), Keys.allControlPattern())) {
                    events.subscribe(pattern, true);
                }
            } else if (kind != null) {
                events.followKinds(Set.of(kind));
            } else {
                events.followKinds(events.registry());
                events.rereads = Executors.newSingleThreadScheduledExecutor(
                        Thread.ofPlatform().daemon().name("taskpool-event-kinds").factory());
                events.rereads.scheduleWithFixedDelay(events::reread, KINDS_REREAD.toMillis(), KINDS_REREAD.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            events.close();
            throw e;
        }
        return events;
    }

    private EventChannels.Subscription subscribe(String name, boolean pattern) {
        EventChannels.Listener own = (channel, message) -> listener.message(kindOf(channel), channel, message);
        try {
            return pattern ? channels.psubscribe(name, own) : channels.subscribe(name, own);
        } catch (RuntimeException e) {
            throw AclRefusal.ofSubscription(e, redis.user(), name);
        }
    }

    /** The kinds in the registry (sorted); throws when Redis cannot be read. */
    private Set<String> registry() {
        return new TreeSet<>(redis.sync().smembers(Keys.TASK_REGISTRY));
    }

    /**
     * Subscribes the channels of the kinds (and of the partitions of a kind) not followed yet, and
     * ends those of the kinds no longer wanted. Each kind's layout is read again each time, so
     * partitions a kind gains are followed within {@link #KINDS_REREAD}.
     */
    private synchronized void followKinds(Set<String> wanted) {
        for (String kind : wanted) {
            if (closed) {
                continue;
            }
            List<Keys> partitions = layouts.fresh(kind).all();
            List<EventChannels.Subscription> followed = kinds.computeIfAbsent(kind, ignored -> new ArrayList<>());
            List<EventChannels.Subscription> made = new ArrayList<>();
            try {
                // (two subscriptions per partition followed: its events and its control channel)
                for (Keys keys : partitions.subList(Math.min(followed.size() / 2, partitions.size()), partitions.size())) {
                    made.add(subscribe(keys.kindEvents(), false));
                    made.add(subscribe(keys.control(), false));
                }
            } catch (RuntimeException e) {
                made.forEach(EventChannels.Subscription::close);
                if (followed.isEmpty()) {
                    kinds.remove(kind);
                }
                throw e;
            }
            followed.addAll(made);
        }
        kinds.keySet().removeIf(kind -> {
            if (wanted.contains(kind)) {
                return false;
            }
            kinds.get(kind).forEach(EventChannels.Subscription::close);
            return true;
        });
    }

    private void reread() {
        try {
            followKinds(registry());
        } catch (RuntimeException e) {
            log.debug("reading the kinds to follow failed ({}); trying again in {} s", e.getMessage(),
                    KINDS_REREAD.toSeconds());
        }
    }

    /** The kind a channel of these subscriptions belongs to; null if it names none. */
    public static String kindOf(String channel) {
        return Keys.kindOfChannel(channel);
    }

    /** Whether a channel of these subscriptions is a kind's control channel (pause, resume, cancel), not a task's events. */
    public static boolean isControl(String channel) {
        return channel.endsWith(":control");
    }

    @Override
    public void close() {
        closed = true;
        if (rereads != null) {
            rereads.shutdownNow();
        }
        channels.close();
    }
}
