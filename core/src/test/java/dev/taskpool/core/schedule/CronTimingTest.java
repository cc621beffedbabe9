package dev.taskpool.core.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Next fire times from cron-utils, in a zone: no Redis. */
class CronTimingTest {
    private static long at(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    @Test
    void fiveFieldsAreMinutesAndSixHaveLeadingSeconds() {
        assertEquals(at("2026-01-10T00:05:00Z"), CronTiming.parse("*/5 * * * *", "UTC").nextAfter(at("2026-01-10T00:01:30Z")));
        assertEquals(at("2026-01-10T00:01:31Z"), CronTiming.parse("*/1 * * * * *", "UTC").nextAfter(at("2026-01-10T00:01:30Z")));
        // strictly after: a time that is itself a slot gives the next one
        assertEquals(at("2026-01-10T00:10:00Z"), CronTiming.parse("*/5 * * * *", "UTC").nextAfter(at("2026-01-10T00:05:00Z")));
    }

    @Test
    void theZoneIsHonoured() {
        CronTiming paris = CronTiming.parse("0 9 * * *", "Europe/Paris");
        assertEquals(at("2026-01-10T08:00:00Z"), paris.nextAfter(at("2026-01-10T00:00:00Z")));   // CET, UTC+1
        assertEquals(at("2026-07-10T07:00:00Z"), paris.nextAfter(at("2026-07-10T00:00:00Z")));   // CEST, UTC+2
        assertEquals(at("2026-01-10T09:00:00Z"), CronTiming.parse("0 9 * * *", "UTC").nextAfter(at("2026-01-10T00:00:00Z")));
    }

    @Test
    void daylightSavingGapAndRepeat() {
        CronTiming newYork = CronTiming.parse("30 2 * * *", "America/New_York");
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day
        long spring = newYork.nextAfter(at("2026-03-08T05:00:00Z"));
        assertEquals(at("2026-03-09T06:30:00Z"), spring, "the 02:30 that does not exist does not fire that day");
        CronTiming autumn = CronTiming.parse("30 1 * * *", "America/New_York");
        // 2026-11-01: 01:00-02:00 happens twice (EDT, then EST); it fires once that day
        long first = autumn.nextAfter(at("2026-11-01T04:00:00Z"));
        assertEquals(at("2026-11-01T05:30:00Z"), first);
        assertEquals(at("2026-11-02T06:30:00Z"), autumn.nextAfter(first));
    }

    @Test
    void latestBetweenWalksBackAndKeepsTheMostRecent() {
        CronTiming everySecond = CronTiming.parse("* * * * * *", "UTC");
        long start = at("2026-01-10T00:00:00Z");
        assertEquals(List.of(start, start + 1000, start + 2000), everySecond.latestBetween(start, start + 2500, 10));
        assertEquals(List.of(start + 8000, start + 9000, start + 10_000), everySecond.latestBetween(start, start + 10_000, 3));
        assertEquals(List.of(), everySecond.latestBetween(start + 5000, start + 4000, 3));
    }

    @Test
    void badExpressionsAndZonesAreNamed() {
        var fields = assertThrows(IllegalArgumentException.class, () -> CronTiming.parse("* * *", "UTC"));
        assertEquals("\"* * *\" has 3 fields; expected 5 (minute hour day month weekday) or 6 with a leading seconds field",
                fields.getMessage());
        var invalid = assertThrows(IllegalArgumentException.class, () -> CronTiming.parse("61 * * * *", "UTC"));
        assertTrue(invalid.getMessage().startsWith("\"61 * * * *\" is not a valid cron expression: "), invalid.getMessage());
        var zone = assertThrows(IllegalArgumentException.class, () -> CronTiming.parse("* * * * *", "Mars/Olympus"));
        assertTrue(zone.getMessage().startsWith("unknown time zone \"Mars/Olympus\""), zone.getMessage());
    }
}
