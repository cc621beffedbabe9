package dev.taskpool.core.definition;

import dev.taskpool.core.json.Json;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How long a failed run with runs left waits before the next one (the definition's {@code backoff}
 * field, with {@code attempt_after} as its base).
 *
 * <ul>
 *   <li>{@link Type#FIXED} (the default): {@code attempt_after} before every retry.</li>
 *   <li>{@link Type#EXPONENTIAL}: {@code attempt_after × 2^(n−1)} before the n-th retry, capped at
 *       {@link #max()}. With {@link #jitter()} the wait is "equal jitter": a uniform pick in
 *       {@code [w/2, w]} of that capped wait {@code w}, so it never passes the cap and never falls
 *       below half of it (retries of many tasks that failed together spread out, none comes back
 *       at once).</li>
 * </ul>
 *
 * @param type   fixed or exponential
 * @param max    the cap of an exponential wait (zero for a fixed one, which needs none)
 * @param jitter whether an exponential wait is spread with equal jitter
 */
public record Backoff(Type type, Duration max, boolean jitter) {
    /** The kinds of backoff, by their name in the definition file. */
    public enum Type {
        FIXED("fixed"), EXPONENTIAL("exponential");

        private final String fieldName;

        Type(String fieldName) {
            this.fieldName = fieldName;
        }

        /** The name a definition file gives it. */
        public String fieldName() {
            return fieldName;
        }
    }

    /** {@code attempt_after} before every retry: what a definition without {@code backoff} gets. */
    public static final Backoff FIXED = new Backoff(Type.FIXED, Duration.ZERO, false);

    /**
     * The cap of an exponential backoff that names none: one hour, or {@code attempt_after} when that
     * is longer (a cap below the first wait would make every wait the same).
     */
    public static final Duration DEFAULT_MAX = Duration.ofHours(1);

    public Backoff {
        if (type == null || max == null || max.isNegative()) {
            throw new IllegalArgumentException("a backoff needs a type and a cap of zero or more, got " + type + " and " + max);
        }
    }

    /** Exponential, with the cap {@code max} (ms) and equal jitter when {@code jitter}. */
    public static Backoff exponential(long maxMillis, boolean jitter) {
        return new Backoff(Type.EXPONENTIAL, Duration.ofMillis(maxMillis), jitter);
    }

    /**
     * The wait before the {@code retry}-th retry (1 for the retry after the first failed run), in
     * ms. {@code random} is a number in {@code [0, 1)}, used only with jitter (a test passes a fixed
     * one). Never negative, never past the cap, and no overflow however large {@code retry} grows.
     */
    public long waitMillis(int retry, long attemptAfterMillis, double random) {
        if (type == Type.FIXED || attemptAfterMillis <= 0) {
            return Math.max(attemptAfterMillis, 0);
        }
        long cap = max.toMillis();
        int doublings = Math.max(retry, 1) - 1;
        // attempt_after × 2^doublings, without passing the cap: compared by shifting the cap down,
        // which cannot overflow the way shifting attempt_after up can.
        long wait = doublings >= Long.SIZE - 1 || attemptAfterMillis > (cap >> doublings) ? cap : attemptAfterMillis << doublings;
        if (!jitter) {
            return wait;
        }
        double pick = Math.min(Math.max(random, 0), Math.nextDown(1.0));
        long half = wait / 2;
        return Math.min(wait, half + (long) ((wait - half + 1) * pick));
    }

    /**
     * How the definition's {@code backoff} reads in the published definition ({@code
     * taskpool:{T}:def}, field {@code backoff}): "fixed", or the exponential form as JSON, e.g.
     * {@code {"type":"exponential","max":600000,"jitter":true}}.
     */
    public String publishedText() {
        if (type == Type.FIXED) {
            return type.fieldName();
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("type", type.fieldName());
        fields.put("max", max.toMillis());
        fields.put("jitter", jitter);
        return Json.write(fields);
    }
}
