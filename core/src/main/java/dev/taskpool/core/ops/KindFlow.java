package dev.taskpool.core.ops;

import java.util.List;

/**
 * What holds a kind back from starting its tasks, as read from its {@code flow} hash, its leases
 * and its rate window ({@code taskpool:{T}:flow}, {@code :leases}, {@code :rate}), by Redis' clock:
 *
 * <ul>
 *   <li>{@code maxRunning}: its cap on tasks running at once (0: none); {@code atCap} while as many
 *       run (the leases count);
 *   <li>{@code rateLimit} starts per {@code ratePerMs} (0: no rate); {@code rateLimitedUntil}: while
 *       the window holds {@code rateLimit} starts already, when the oldest of those that count leaves
 *       it (the next start may be then), epoch ms; 0 when the kind may start now;
 *   <li>{@code heldUntil} and {@code heldReason}: a processor said the service it calls limits it
 *       ({@code RateLimited}): the kind takes no task until then (epoch ms); 0 and null when that
 *       time has passed, or none was set.
 * </ul>
 */
public record KindFlow(long maxRunning, long rateLimit, long ratePerMs, boolean atCap, long rateLimitedUntil,
                       long heldUntil, String heldReason) {
    /** A kind with no flow control, or one whose controls hold nothing back now. */
    public static final KindFlow NONE = new KindFlow(0, 0, 0, false, 0, 0, null);

    /**
     * The flow of a kind whose partitions have these flows: the caps and rate limits summed (each
     * partition has its share), the rate's window the same; at cap while every partition is;
     * rate-limited, or held, while every partition is, until the earliest time one of them may
     * start again (with that one's reason).
     */
    static KindFlow whole(List<KindFlow> parts) {
        if (parts.size() == 1) {
            return parts.getFirst();
        }
        long maxRunning = 0, rateLimit = 0, ratePerMs = 0;
        boolean atCap = true;
        long limitedUntil = Long.MAX_VALUE, heldUntil = Long.MAX_VALUE;
        String heldReason = null;
        for (KindFlow part : parts) {
            maxRunning += part.maxRunning;
            rateLimit += part.rateLimit;
            ratePerMs = Math.max(ratePerMs, part.ratePerMs);
            atCap &= part.atCap;
            limitedUntil = part.rateLimitedUntil > 0 ? Math.min(limitedUntil, part.rateLimitedUntil) : 0;
            if (part.heldUntil > 0 && part.heldUntil < heldUntil) {
                heldReason = part.heldReason;
            }
            heldUntil = part.heldUntil > 0 ? Math.min(heldUntil, part.heldUntil) : 0;
        }
        KindFlow flow = new KindFlow(maxRunning, rateLimit, ratePerMs, atCap && !parts.isEmpty(),
                limitedUntil == Long.MAX_VALUE ? 0 : limitedUntil, heldUntil == Long.MAX_VALUE ? 0 : heldUntil,
                heldUntil > 0 && heldUntil != Long.MAX_VALUE ? heldReason : null);
        return flow.equals(NONE) ? NONE : flow;
    }

    /** Until when (epoch ms, Redis' clock) its rate window or a hold keeps it from starting a task; 0 when neither does. */
    public long blockedUntil() {
        return Math.max(rateLimitedUntil, heldUntil);
    }

    /** Whether something holds it back now: its cap, its rate or a hold. */
    public boolean holdsBack() {
        return atCap || blockedUntil() > 0;
    }
}
