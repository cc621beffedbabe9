package dev.taskpool.core.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * When a cron expression fires, in a time zone: the one place that asks cron-utils. Five fields
 * are the classic Unix form (minute hour day month weekday); six have a leading seconds field
 * (read with cron-utils' Spring 5.3 definition, whose other five fields mean the same).
 *
 * <p>Daylight saving time follows cron-utils' reading of wall-clock times in the zone: a slot
 * whose wall time does not exist that day (02:30 when clocks jump from 02:00 to 03:00) does not
 * fire that day, and a wall time that happens twice (the hour repeated in autumn) fires once, at
 * its first occurrence. {@code CronTimingTest} pins both. Slots that name no hour (every minute,
 * every 5 seconds) go on in real time through both changes.
 */
public final class CronTiming {
    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final CronParser WITH_SECONDS = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));

    private final String expression;
    private final ZoneId zone;
    private final ExecutionTime executions;

    private CronTiming(String expression, ZoneId zone, ExecutionTime executions) {
        this.expression = expression;
        this.zone = zone;
        this.executions = executions;
    }

    /**
     * Parses {@code expression} for {@code zone} (an IANA id such as {@code Europe/Paris}).
     *
     * @throws IllegalArgumentException naming the expression or zone and, for a bad expression,
     *                                  the library's reason
     */
    public static CronTiming parse(String expression, String zone) {
        ZoneId zoneId = zoneOf(zone);
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException("expected a cron expression of 5 fields (minute hour day month weekday)"
                    + " or 6 with a leading seconds field, got " + (expression == null ? "none" : "\"" + expression + "\""));
        }
        String trimmed = expression.trim();
        int fields = trimmed.split("\\s+").length;
        if (fields != 5 && fields != 6) {
            throw new IllegalArgumentException("\"" + expression + "\" has " + fields + " fields; expected 5 (minute hour day"
                    + " month weekday) or 6 with a leading seconds field");
        }
        Cron cron;
        try {
            cron = (fields == 5 ? UNIX : WITH_SECONDS).parse(trimmed).validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + expression + "\" is not a valid cron expression: " + e.getMessage(), e);
        }
        return new CronTiming(trimmed, zoneId, ExecutionTime.forCron(cron));
    }

    /** The zone of an IANA id; refuses anything else, naming it. */
    public static ZoneId zoneOf(String zone) {
        if (zone == null || zone.isBlank()) {
            throw new IllegalArgumentException("expected an IANA time zone such as \"UTC\" or \"Europe/Paris\", got none");
        }
        try {
            return ZoneId.of(zone.trim());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("unknown time zone \"" + zone + "\"; expected an IANA id such as \"UTC\" or"
                    + " \"Europe/Paris\"", e);
        }
    }

    public String expression() {
        return expression;
    }

    public ZoneId zone() {
        return zone;
    }

    /** The first firing strictly after {@code epochMs}, epoch ms; 0 when the expression never fires again. */
    public long nextAfter(long epochMs) {
        // Slots fall on whole seconds; cron-utils keeps the fraction of the time it is given, so it goes.
        Optional<ZonedDateTime> next = executions.nextExecution(wholeSecond(epochMs));
        return next.map(time -> time.toInstant().toEpochMilli()).orElse(0L);
    }

    /**
     * The firings from {@code first} (itself a firing time) up to {@code until}, both included,
     * oldest first: the most recent {@code limit} of them when there are more. Walks back from
     * {@code until}, so a long downtime of a frequent schedule costs {@code limit} steps, not one
     * per missed slot.
     */
    public List<Long> latestBetween(long first, long until, int limit) {
        List<Long> slots = new ArrayList<>();
        ZonedDateTime latest = wholeSecond(until);
        // a firing exactly at `until` (to the second) counts
        Optional<ZonedDateTime> previous = executions.isMatch(latest) ? Optional.of(latest) : executions.lastExecution(latest);
        while (previous.isPresent() && slots.size() < limit) {
            long slot = previous.get().toInstant().toEpochMilli();
            if (slot < first) {
                break;
            }
            slots.addFirst(slot);
            previous = executions.lastExecution(previous.get());
        }
        return slots;
    }

    private ZonedDateTime wholeSecond(long epochMs) {
        return ZonedDateTime.ofInstant(Instant.ofEpochMilli(Math.floorDiv(epochMs, 1000) * 1000), zone);
    }
}
