package dev.taskpool.core.definition;

import java.time.Duration;
import java.util.Map;

/**
 * What a definition sets to hold its kind back, all enforced by Redis across every worker: a cap
 * on the runs at once ({@code max_running}), a rate of starts ({@code rate}), and unique adds
 * ({@code unique}).
 *
 * @param maxRunning      the most tasks of the kind RUNNING at once, over all workers; 0: no cap
 * @param rateLimit       the most starts in any window of {@code ratePer}; 0: no limit
 * @param ratePer         the window of the rate limit (zero when there is none)
 * @param uniqueByArgs    every add is unique by its arguments (as if its key were a digest of them)
 * @param uniqueFor       how long a key stays held after its task ended (zero: released at the end)
 */
public record FlowControl(int maxRunning, int rateLimit, Duration ratePer, boolean uniqueByArgs, Duration uniqueFor) {
    /** The largest {@code max_running} and rate {@code limit} accepted. */
    public static final int MAX_LIMIT = 100_000;
    /** The longest rate window and {@code unique.for} accepted: a day. */
    public static final Duration MAX_WINDOW = Duration.ofDays(1);

    public static final FlowControl NONE = new FlowControl(0, 0, Duration.ZERO, false, Duration.ZERO);

    public FlowControl {
        if (maxRunning < 0 || maxRunning > MAX_LIMIT) {
            throw new IllegalArgumentException("max_running must be from 1 to " + MAX_LIMIT + " (0: no cap), got " + maxRunning);
        }
        if (rateLimit < 0 || rateLimit > MAX_LIMIT) {
            throw new IllegalArgumentException("rate.limit must be from 1 to " + MAX_LIMIT + " (0: no limit), got " + rateLimit);
        }
        if (rateLimit > 0 && (ratePer.toMillis() < 1 || ratePer.compareTo(MAX_WINDOW) > 0)) {
            throw new IllegalArgumentException("rate.per must be from 1 ms to a day, got " + ratePer);
        }
        if (uniqueFor.isNegative() || uniqueFor.compareTo(MAX_WINDOW) > 0) {
            throw new IllegalArgumentException("unique.for must be from 0 to a day, got " + uniqueFor);
        }
    }

    /** Whether the kind's fetches have anything to enforce (a cap or a rate). */
    public boolean limitsStarts() {
        return maxRunning > 0 || rateLimit > 0;
    }

    /**
     * The fields published with the definition ({@code taskpool:{T}:def}) and copied to the kind's
     * {@code flow} hash, which the fetch reads: only those set, so a kind with no control publishes
     * what it did before.
     */
    public void publishInto(Map<String, String> fields) {
        if (maxRunning > 0) {
            fields.put("max_running", Integer.toString(maxRunning));
        }
        if (rateLimit > 0) {
            fields.put("rate_limit", Integer.toString(rateLimit));
            fields.put("rate_per", Long.toString(ratePer.toMillis()));
        }
        if (uniqueByArgs) {
            fields.put("unique_by", "args");
        }
        if (!uniqueFor.isZero()) {
            fields.put("unique_for", Long.toString(uniqueFor.toMillis()));
        }
    }
}
