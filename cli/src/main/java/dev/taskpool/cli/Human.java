package dev.taskpool.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** Numbers as an operator reads them in a table: ages, durations, rates, shortened text. */
final class Human {
    private Human() {
    }

    /** A duration in ms as "850ms", "42s", "3m05s", "2h10m", "3d04h"; "-" when negative (unknown). */
    static String duration(long ms) {
        if (ms < 0) {
            return "-";
        }
        if (ms < 1000) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return "%dm%02ds".formatted(s / 60, s % 60);
        }
        if (s < 86_400) {
            return "%dh%02dm".formatted(s / 3600, s % 3600 / 60);
        }
        return "%dd%02dh".formatted(s / 86_400, s % 86_400 / 3600);
    }

    /** How long ago {@code atMs} was, or "-" when unknown. */
    static String ago(Long atMs, long nowMs) {
        return atMs == null || atMs <= 0 ? "-" : duration(Math.max(0, nowMs - atMs)) + " ago";
    }

    /** When a due time comes: "in 2m05s", or "now" once it has passed; "-" when there is none. */
    static String dueIn(long dueAtMs, long nowMs) {
        if (dueAtMs <= 0) {
            return "-";
        }
        return dueAtMs > nowMs ? "in " + duration(dueAtMs - nowMs) : "now";
    }

    /** Tasks per second with at most two decimals ("0", "0.05", "12.5"). */
    static String rate(double perSecond) {
        String text = "%.2f".formatted(perSecond);
        return text.contains(".") ? text.replaceAll("0+$", "").replaceAll("\\.$", "") : text;
    }

    /**
     * At most {@code max} characters (code points: a cut never splits one), on one line, control
     * characters made visible ({@link Visible}); "…" marks a cut.
     */
    static String shorten(String text, int max) {
        if (text == null) {
            return "";
        }
        String line = Visible.line(text).replaceAll(" {2,}", " ").strip();
        return Table.width(line) <= max ? line : line.substring(0, line.offsetByCodePoints(0, Math.max(0, max - 1))) + "…";
    }

    /**
     * A time of day (this machine's zone) to the ms, "14:03:07.250"; with its date,
     * "2026-01-05 14:03:07.250", when that is not the day of {@code nowMs}.
     */
    static String clock(long atMs, long nowMs) {
        ZonedDateTime at = Instant.ofEpochMilli(atMs).atZone(ZoneId.systemDefault());
        boolean today = at.toLocalDate().equals(Instant.ofEpochMilli(nowMs).atZone(ZoneId.systemDefault()).toLocalDate());
        return at.format(today ? TIME_OF_DAY : DATE_AND_TIME);
    }

    private static final DateTimeFormatter TIME_OF_DAY = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final DateTimeFormatter DATE_AND_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    /** A progress bar "[#####.....] 5/10" of {@code width} cells; empty when there is no total. */
    static String bar(long current, long total, int width) {
        if (total <= 0) {
            return current > 0 ? Long.toString(current) : "";
        }
        long done = Math.max(0, Math.min(current, total));
        int filled = (int) (done * width / total);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + current + "/" + total;
    }
}
