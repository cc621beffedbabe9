package dev.taskpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchKindsTest {
    /** A stand-in for the slot map: a name's master by its last digit. */
    private static String masterByLastDigit(String kind) {
        return "m" + (kind.charAt(kind.length() - 1) - '0') % 3;
    }

    @Test
    void kindIGoesToMasterIModM() {
        List<String> masters = List.of("m0", "m1", "m2");
        List<String> kinds = BenchKinds.choose("bench.x", 5, masters, BenchKindsTest::masterByLastDigit);
        assertEquals(List.of("m0", "m1", "m2", "m0", "m1"), kinds.stream().map(BenchKindsTest::masterByLastDigit).toList(),
                "kinds " + kinds);
        assertEquals(5, kinds.stream().distinct().count(), "no name twice: " + kinds);
        assertTrue(kinds.stream().allMatch(kind -> kind.startsWith("bench.xk")), kinds.toString());
    }

    @Test
    void aSingleNodeTakesTheFirstNames() {
        assertEquals(List.of("bench.xk0", "bench.xk1"), BenchKinds.choose("bench.x", 2, List.of("one"), kind -> "one"));
    }

    @Test
    void aMasterThatServesNothingIsNamed() {
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> BenchKinds.choose("bench.x", 2, List.of("m0", "nowhere"), kind -> "m0"));
        assertTrue(error.getMessage().contains("master nowhere"), error.getMessage());
    }

    @Test
    void sharesDifferByAtMostOneAndAddUp() {
        assertEquals(List.of(17, 17, 16), BenchKinds.split(50, 3));
        assertEquals(List.of(10_000, 10_000, 10_000), BenchKinds.split(30_000, 3));
        assertEquals(List.of(1, 1, 1, 1, 1, 1, 1), BenchKinds.split(7, 7));
    }
}
