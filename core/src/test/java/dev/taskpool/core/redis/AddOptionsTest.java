package dev.taskpool.core.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The add options and their map form, without Redis. */
class AddOptionsTest {
    private static final long NOW = 1_700_000_000_000L;

    @Test
    void aDelayIsAddedToNowAndAnAtIsTakenAsItIs() {
        assertEquals(NOW + 3000, AddOptions.delay(Duration.ofSeconds(3)).dueAt(NOW));
        assertEquals(1_765_090_000_000L, AddOptions.at(Instant.ofEpochMilli(1_765_090_000_000L)).dueAt(NOW));
        assertEquals(0, AddOptions.none().dueAt(NOW));
        assertEquals(0, AddOptions.delay(Duration.ZERO).dueAt(NOW), "no delay: at once");
        assertTrue(AddOptions.fromMap(null).isNone());
        assertTrue(AddOptions.fromMap(Map.of()).isNone());
    }

    @Test
    void theMapFormTakesWholeNumbersOfMillis() {
        assertEquals(AddOptions.delay(Duration.ofMillis(3000)), AddOptions.fromMap(Map.of("delay", 3000)));
        assertEquals(AddOptions.delay(Duration.ofMillis(3000)), AddOptions.fromMap(Map.of("delay", 3000L)));
        assertEquals(AddOptions.delay(Duration.ofMillis(3000)), AddOptions.fromMap(Map.of("delay", 3000.0)), "a script's number");
        assertEquals(AddOptions.delay(Duration.ofMillis(3000)), AddOptions.fromMap(Map.of("delay", BigInteger.valueOf(3000))));
        assertEquals(AddOptions.at(Instant.ofEpochMilli(1_765_090_000_000L)), AddOptions.fromMap(Map.of("at", 1_765_090_000_000L)));
    }

    @Test
    void badOptionsAreRefusedNamingTheOptionAndTheValue() {
        assertMessage("unknown add option 'delya' (value 3000); the options are delay, at, key, priority", Map.of("delya", 3000));
        assertMessage("add option delay must not be negative, got -5 ms", Map.of("delay", -5));
        assertMessage("add option delay must be a whole number of ms, got 2.5", Map.of("delay", 2.5));
        assertMessage("add option delay must be a whole number of ms, got '3000' (a string)", Map.of("delay", "3000"));
        assertMessage("add option at must be a whole number of ms, got true", Map.of("at", true));
        assertMessage("add option at must be an epoch time in ms from 0 to 253402300799999, got -1 (1969-12-31T23:59:59.999Z)",
                Map.of("at", -1));
        Map<String, Object> both = new LinkedHashMap<>();
        both.put("delay", 1000);
        both.put("at", NOW);
        assertMessage("add options delay and at exclude each other: give one of them", both);
        Map<String, Object> nothing = new LinkedHashMap<>();
        nothing.put("delay", null);
        assertMessage("add option delay must be a whole number of ms, got null", nothing);
        assertThrows(IllegalArgumentException.class, () -> AddOptions.delay(Duration.ofMillis(-1)));
    }

    private static void assertMessage(String expected, Map<String, ?> options) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> AddOptions.fromMap(options));
        assertEquals(expected, error.getMessage());
    }
}
