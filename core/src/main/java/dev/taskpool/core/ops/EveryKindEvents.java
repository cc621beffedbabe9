package dev.taskpool.core.ops;

import dev.taskpool.core.connect.EventChannels;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.connect.RedisConnector;
import java.util.List;

/**
 * Every kind's task events and control messages, as operators' views follow them (the dashboard,
 * {@code taskpool watch}): two patterns on an {@link EventChannels} of their own. Kinds published
 * later are followed at once, and an ACL user needs only these two patterns among its channel
 * rules, whatever the kinds (Redis compares a pattern literally with the rules, so a per-kind
 * pattern would need a rule per kind).
 */
public final class EveryKindEvents implements AutoCloseable {
    /** Hears one message; runs on the connection's I/O thread, so it must return at once (see {@link EventChannels}). */
    @FunctionalInterface
    public interface Listener {
        /** @param kind the kind the channel belongs to; null for a channel that names none */
        void message(String kind, String channel, String message);
    }

    private final EventChannels channels;

    private EveryKindEvents(EventChannels channels) {
        this.channels = channels;
    }

    /**
     * Follows every kind; returns once Redis confirmed both patterns, so a reader that starts after
     * this misses no later message, or after the command timeout when Redis does not answer (the
     * patterns are then subscribed as soon as it is back; see {@link EventChannels}).
     *
     * @throws RuntimeException naming the ACL rule to add when Redis refuses a pattern to the user
     */
    public static EveryKindEvents follow(RedisConnector redis, Listener listener) {
        EventChannels channels = new EventChannels(redis);
        for (String pattern : List.of(Keys.allEventsPattern(), Keys.allControlPattern())) {
            try {
                channels.psubscribe(pattern, (channel, message) -> listener.message(kindOf(channel), channel, message));
            } catch (RuntimeException e) {
                channels.close();
                throw AclRefusal.ofSubscription(e, redis.user(), pattern);
            }
        }
        return new EveryKindEvents(channels);
    }

    /** The kind a channel of these patterns belongs to; null if it names none. */
    public static String kindOf(String channel) {
        return Keys.kindOfChannel(channel);
    }

    /** Whether a channel of these patterns is a kind's control channel (pause, resume, cancel), not a task's events. */
    public static boolean isControl(String channel) {
        return channel.endsWith(":control");
    }

    @Override
    public void close() {
        channels.close();
    }
}
