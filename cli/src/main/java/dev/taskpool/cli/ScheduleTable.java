package dev.taskpool.cli;

import dev.taskpool.core.schedule.ScheduleInfo;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** How {@code taskpool schedules} shows schedules: the table's rows, the times, and the JSON. */
final class ScheduleTable {
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssXXX");

    private ScheduleTable() {
    }

    static Table of(List<ScheduleInfo> schedules, long now) {
        Table table = new Table("ID", "NAME", "SCHEDULE", "RUNS", "NEXT FIRE", "LAST FIRE", "LAST TASK>", "STOPPED", "LAST ERROR");
        for (ScheduleInfo info : schedules) {
            table.row().cell(info.id(), Terminal.Style.BOLD)
                    .cell(Human.shorten(info.name(), 40))
                    .cell(info.cron() == null ? "-" : info.cron() + " " + zone(info.timezone()))
                    .cell(runs(info))
                    .cell(info.stopped() ? "-" : next(info.nextFireAt(), info.timezone(), now),
                            info.nextFireAt() > 0 && info.nextFireAt() < now && !info.stopped() ? Terminal.Style.YELLOW : null)
                    .cell(last(info.lastFireAt(), info.timezone(), now))
                    .cell(info.lastTaskId() > 0 ? "#" + info.lastTaskId() : "-")
                    .cell(info.stopped() ? "yes" : "no", info.stopped() ? Terminal.Style.YELLOW : null)
                    .cell(info.lastError() == null ? "" : Human.shorten(info.lastError(), 70), Terminal.Style.RED);
        }
        return table;
    }

    /**
     * What a firing does: "task mail.send" or "process scripts.report.Daily"; "-" for a registry
     * entry that cannot be read (its last error says why).
     */
    static String runs(ScheduleInfo info) {
        if (info.task() != null) {
            return "task " + info.task();
        }
        return info.process() != null ? "process " + info.process() : "-";
    }

    private static String zone(String timezone) {
        return "(" + (timezone == null || timezone.isEmpty() ? "UTC" : timezone) + ")";
    }

    /**
     * A fire time in the schedule's own zone (a cron's hours are that zone's), with how far from
     * now: "2026-12-07 09:00:00+01:00 (in 2h30m)"; a time already past that no worker has fired
     * yet (none running, or all stopped) says "(due 5s ago)"; "-" for none.
     */
    static String next(long atMs, String timezone, long now) {
        if (atMs <= 0) {
            return "-";
        }
        return at(atMs, timezone) + (atMs >= now ? " (in " + Human.duration(atMs - now) + ")" : " (due " + Human.ago(atMs, now) + ")");
    }

    /** A past fire time as {@link #next} shows it: "2026-12-07 08:00:00+01:00 (30m00s ago)"; "-" for never. */
    static String last(long atMs, String timezone, long now) {
        return atMs <= 0 ? "-" : at(atMs, timezone) + " (" + Human.ago(atMs, now) + ")";
    }

    private static String at(long atMs, String timezone) {
        return WHEN.format(Instant.ofEpochMilli(atMs).atZone(zoneOf(timezone)));
    }

    /** The schedule's zone; UTC when none is stored or the stored one is unknown to this JVM. */
    private static ZoneId zoneOf(String timezone) {
        if (timezone == null || timezone.isEmpty()) {
            return ZoneOffset.UTC;
        }
        try {
            return ZoneId.of(timezone);
        } catch (DateTimeException e) {
            return ZoneOffset.UTC;
        }
    }
}
