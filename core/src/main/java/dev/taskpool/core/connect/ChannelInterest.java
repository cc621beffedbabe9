package dev.taskpool.core.connect;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A channel or pattern some listeners of an {@link EventChannels} want, and whether Redis
 * confirmed it on the current connection. Its plain fields are read and changed only under the
 * lock of the {@code EventChannels} holding it; {@link #listeners} and {@link #refused} are read
 * without it (on Lettuce's I/O thread, by a subscriber awaiting its answer).
 */
final class ChannelInterest {
    private static final Logger log = LoggerFactory.getLogger(ChannelInterest.class);

    final String name;
    final boolean pattern;
    final List<EventChannels.Listener> listeners = new CopyOnWriteArrayList<>();
    /** Completed when Redis confirms the subscription; replaced by a new one when the connection drops. */
    CompletableFuture<Void> confirmed = new CompletableFuture<>();
    /** Whether a (P)SUBSCRIBE of ours is out. */
    boolean sending;
    /** Counts the sends: the answer to an earlier send than the last one (a Cluster's master changed meanwhile) is ignored. */
    long sends;
    /**
     * Completed with Redis's error reply when it refused a (P)SUBSCRIBE of this interest (an ACL
     * rule missing): a definite answer, which the subscriber hears at once instead of a retry.
     * Replaced by a new one with each send, so an old refusal never speaks for a later send.
     */
    volatile CompletableFuture<Throwable> refused = new CompletableFuture<>();
    /** When (nanoTime) a refusal of this interest was last logged: a healing retry's refusal is logged once a minute. */
    private long refusalLoggedAt;
    private boolean refusalLogged;

    ChannelInterest(String name, boolean pattern) {
        this.name = name;
        this.pattern = pattern;
    }

    /** Makes a confirmed subscription wait for Redis's confirmation again (one still awaited stays as it is). */
    void unconfirm() {
        if (confirmed.isDone()) {
            confirmed = new CompletableFuture<>();
        }
    }

    /**
     * A refused (P)SUBSCRIBE (an ACL rule taken away, say) is said at warn level, once a minute per
     * channel: when healing meets it nobody else hears of it, and the subscription stays silent.
     * When it was last said is read and noted holding {@code lock}, the EventChannels' lock.
     */
    void logRefusal(Throwable error, String redisDescription, Object lock) {
        long now = System.nanoTime();
        synchronized (lock) {
            if (refusalLogged && now - refusalLoggedAt < TimeUnit.MINUTES.toNanos(1)) {
                return;
            }
            refusalLogged = true;
            refusalLoggedAt = now;
        }
        log.warn("Redis at {} refused the subscription to {} ({}); no event of it is delivered, and it is asked again"
                + " while someone listens", redisDescription, name, error.getMessage());
    }

    /** Hands a message to every listener of {@code interest} (none when null), on Lettuce's I/O thread. */
    static void deliver(ChannelInterest interest, String channel, String message) {
        if (interest == null) {
            return;
        }
        for (EventChannels.Listener listener : interest.listeners) {
            try {
                listener.message(channel, message);
            } catch (RuntimeException e) {
                log.warn("a listener of {} failed on a message: {}", interest.name, e.toString());
            }
        }
    }
}
