package dev.taskpool.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Durations in messages read as they are written on the command line, never "PT3S". */
class DurationsTest {
    @Test
    void durationsReadAsPeopleWriteThem() {
        assertEquals("400ms", Durations.text(Duration.ofMillis(400)));
        assertEquals("0ms", Durations.text(Duration.ZERO));
        assertEquals("3s", Durations.text(Duration.ofSeconds(3)));
        assertEquals("1.5s", Durations.text(Duration.ofMillis(1500)));
        assertEquals("59.999s", Durations.text(Duration.ofMillis(59_999)));
        assertEquals("2m", Durations.text(Duration.ofMinutes(2)));
        assertEquals("1m30s", Durations.text(Duration.ofSeconds(90)));
        assertEquals("90.5s", Durations.text(Duration.ofMillis(90_500)));
        assertEquals("1h", Durations.text(Duration.ofHours(1)));
        assertEquals("2h5m", Durations.text(Duration.ofMinutes(125)));
        assertEquals("-1s", Durations.text(Duration.ofSeconds(-1)));
        assertEquals("20ms", Durations.millis(20));
    }
}
