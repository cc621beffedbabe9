package dev.taskpool.core;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * Durations as people write them, for every message, error and log line that shows one: "500ms",
 * "3s", "1.5s", "2m", "1h", "1m30s" (Java's own {@code Duration.toString()} reads "PT3S", and
 * whole seconds cut 400ms to "0 s"). The forms without a compound unit read back as the command
 * line's duration options are written.
 */
public final class Durations {
    private Durations() {
    }

    public static String text(Duration value) {
        if (value.isNegative()) {
            return "-" + text(value.negated());
        }
        long ms = value.toMillis();
        if (ms < 1000) {
            return ms + "ms";
        }
        if (ms < 60_000 || ms % 1000 != 0) {
            return BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString() + "s";
        }
        long s = ms / 1000;
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s < 3600) {
            return s / 60 + "m" + (s % 60 == 0 ? "" : s % 60 + "s");
        }
        return s / 3600 + "h" + s % 3600 / 60 + "m" + (s % 60 == 0 ? "" : s % 60 + "s");
    }

    /** {@link #text(Duration)} of a number of milliseconds. */
    public static String millis(long ms) {
        return text(Duration.ofMillis(ms));
    }
}
