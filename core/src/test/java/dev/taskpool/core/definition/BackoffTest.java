package dev.taskpool.core.definition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The waits between runs, without Redis: the doubling, the cap, equal jitter's bounds, large retry numbers. */
class BackoffTest {
    private static final double BELOW_ONE = Math.nextDown(1.0);

    @Test
    void fixedWaitsAttemptAfterEveryTime() {
        for (int retry = 1; retry <= 100; retry++) {
            assertEquals(250, Backoff.FIXED.waitMillis(retry, 250, 0.7));
        }
        assertEquals(0, Backoff.FIXED.waitMillis(3, 0, 0.7), "attempt_after 0: no wait");
    }

    @Test
    void exponentialDoublesFromAttemptAfterUpToTheCap() {
        Backoff backoff = Backoff.exponential(600_000, false);
        long[] expected = {1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 600_000, 600_000};
        for (int retry = 1; retry <= expected.length; retry++) {
            assertEquals(expected[retry - 1], backoff.waitMillis(retry, 1000, 0.5), "retry " + retry);
        }
    }

    @Test
    void aCapEqualToAttemptAfterWaitsTheSameEveryTime() {
        Backoff backoff = Backoff.exponential(3000, false);
        assertEquals(3000, backoff.waitMillis(1, 3000, 0));
        assertEquals(3000, backoff.waitMillis(7, 3000, 0));
    }

    @Test
    void largeRetryNumbersStayAtTheCapWithoutOverflow() {
        Backoff backoff = Backoff.exponential(1_000_000_000, false);
        for (int retry : new int[] {30, 31, 62, 63, 64, 65, 1000, Integer.MAX_VALUE}) {
            assertEquals(1_000_000_000, backoff.waitMillis(retry, 1000, 0), "retry " + retry);
        }
        // Just under the cap: 2^29 × 1 ms fits, 2^30 passes 1e9.
        assertEquals(1L << 29, backoff.waitMillis(30, 1, 0));
        assertEquals(1_000_000_000, backoff.waitMillis(31, 1, 0));
        assertEquals(1_000_000_000, Backoff.exponential(1_000_000_000, false).waitMillis(2, 999_999_999, 0));
    }

    @Test
    void aRetryNumberBelowOneIsTheFirstRetry() {
        Backoff backoff = Backoff.exponential(600_000, false);
        assertEquals(1000, backoff.waitMillis(0, 1000, 0));
        assertEquals(1000, backoff.waitMillis(-5, 1000, 0));
    }

    @Test
    void equalJitterStaysBetweenHalfTheWaitAndTheWaitNeverPastTheCap() {
        Backoff backoff = Backoff.exponential(10_000, true);
        Random random = new Random(18);
        for (int retry = 1; retry <= 40; retry++) {
            long plain = Backoff.exponential(10_000, false).waitMillis(retry, 700, 0);
            for (int i = 0; i < 500; i++) {
                long wait = backoff.waitMillis(retry, 700, random.nextDouble());
                assertTrue(wait >= plain / 2 && wait <= plain && wait <= 10_000,
                        "retry " + retry + ": " + wait + " not in [" + plain / 2 + ", " + plain + "]");
            }
            assertEquals(plain / 2, backoff.waitMillis(retry, 700, 0), "the lowest pick is half");
            assertEquals(plain, backoff.waitMillis(retry, 700, BELOW_ONE), "the highest pick is the wait itself");
        }
        assertEquals(10_000, backoff.waitMillis(1000, 700, 1.5), "a pick out of range is held at the top");
        assertEquals(5000, backoff.waitMillis(1000, 700, -1), "and at the bottom");
    }

    @Test
    void jitterSpreadsTheWaits() {
        Backoff backoff = Backoff.exponential(600_000, true);
        Random random = new Random(7);
        long lowest = Long.MAX_VALUE;
        long highest = 0;
        for (int i = 0; i < 1000; i++) {
            long wait = backoff.waitMillis(3, 1000, random.nextDouble());
            lowest = Math.min(lowest, wait);
            highest = Math.max(highest, wait);
        }
        assertTrue(lowest < 2200 && highest > 3800, "spread over [2000, 4000]: " + lowest + ".." + highest);
    }

    @Test
    void theDefinitionGivesTheWaitOfItsBackoff() {
        TaskDefinition fixed = new TaskDefinition("t", "tasks/t.yao", "t", 1, 5, Duration.ofMillis(400), Duration.ofSeconds(1),
                10, "scripts.t.Run", TaskEvents.NONE, TaskDefinition.DEFAULT_KEEP);
        assertEquals(Backoff.FIXED, fixed.backoff(), "the constructor without backoff gives the fixed one");
        assertEquals(Duration.ofMillis(400), fixed.retryWait(4, 0.3));
        TaskDefinition growing = new TaskDefinition("t", "tasks/t.yao", "t", 1, 5, Duration.ofMillis(400), Duration.ofSeconds(1),
                10, "scripts.t.Run", TaskEvents.NONE, TaskDefinition.DEFAULT_KEEP, Backoff.exponential(1000, false));
        assertEquals(Duration.ofMillis(800), growing.retryWait(2, 0.3));
        assertEquals(Duration.ofMillis(1000), growing.retryWait(3, 0.3));
    }

    @Test
    void thePublishedFormIsReadable() {
        assertEquals("fixed", Backoff.FIXED.publishedText());
        assertEquals("{\"type\":\"exponential\",\"max\":600000,\"jitter\":true}", Backoff.exponential(600_000, true).publishedText());
    }

    @Test
    void aBackoffNeedsATypeAndACapOfZeroOrMore() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(null, Duration.ZERO, false));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Backoff.Type.EXPONENTIAL, Duration.ofMillis(-1), false));
    }
}
