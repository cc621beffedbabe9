package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.worker.RetryLater;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The retry policy without Redis: which failed runs run again, after what wait, and which do not count. */
class RunRetriesTest {
    private static TaskDefinition definition(int attempts, long attemptAfter, Backoff backoff) {
        return new TaskDefinition("t", "tasks/t.yao", "t", 1, attempts, Duration.ofMillis(attemptAfter), Duration.ofSeconds(5),
                10, "scripts.t.Run", TaskEvents.NONE, TaskDefinition.DEFAULT_KEEP, backoff);
    }

    private static final RuntimeException BOOM = new IllegalStateException("boom");

    @Test
    void attemptsTwoRetriesTwiceAfterAttemptAfterThenGivesUp() {
        RunRetries retries = new RunRetries(definition(2, 700, Backoff.FIXED));
        assertEquals(new RunRetries.NextRun(Duration.ofMillis(700), true), retries.afterFailure(1, BOOM));
        assertEquals(new RunRetries.NextRun(Duration.ofMillis(700), true), retries.afterFailure(2, BOOM));
        assertNull(retries.afterFailure(3, BOOM), "run 3 of 3 was the last");
        assertNull(retries.afterFailure(4, BOOM), "past the last (the definition was lowered): none");
        assertEquals(new RunRetries.NextRun(Duration.ofMillis(700), true), retries.afterFailure(1, BOOM), "reusable");
    }

    @Test
    void noAttemptsMeansNoRetry() {
        assertNull(new RunRetries(definition(0, 700, Backoff.FIXED)).afterFailure(1, BOOM));
    }

    @Test
    void exponentialWaitsGrowWithTheRunNumber() {
        RunRetries retries = new RunRetries(definition(6, 1000, Backoff.exponential(5000, false)));
        long[] expected = {1000, 2000, 4000, 5000, 5000, 5000};
        for (int run = 1; run <= 6; run++) {
            assertEquals(Duration.ofMillis(expected[run - 1]), retries.afterFailure(run, BOOM).delay(), "after run " + run);
        }
        assertNull(retries.afterFailure(7, BOOM));
    }

    @Test
    void jitteredWaitsStayWithinHalfAndTheWholeWait() {
        RunRetries retries = new RunRetries(definition(5, 1000, Backoff.exponential(600_000, true)));
        for (int i = 0; i < 200; i++) {
            long wait = retries.afterFailure(3, BOOM).delay().toMillis();
            assertTrue(wait >= 2000 && wait <= 4000, "retry 3: " + wait);
        }
    }

    @Test
    void aProcessorsWaitReplacesTheBackoffForThatRetry() {
        RunRetries retries = new RunRetries(definition(2, 700, Backoff.exponential(600_000, false)));
        assertEquals(new RunRetries.NextRun(Duration.ofSeconds(42), true),
                retries.afterFailure(1, new RetryLater(Duration.ofSeconds(42), "429")));
        assertEquals(Duration.ofMillis(1400), retries.afterFailure(2, BOOM).delay(), "the next failure has the backoff's again");
        assertNull(retries.afterFailure(3, new RetryLater(Duration.ofSeconds(1), "429")), "a counted run on the last run ends it");
    }

    @Test
    void aRunThatDoesNotCountRunsAgainEvenWhenItWasTheLast() {
        RunRetries retries = new RunRetries(definition(1, 700, Backoff.FIXED));
        RetryLater free = new RetryLater(Duration.ofMillis(250), "rate limited", false);
        assertEquals(new RunRetries.NextRun(Duration.ofMillis(250), false), retries.afterFailure(2, free));
        assertEquals(new RunRetries.NextRun(Duration.ofMillis(250), false), retries.afterFailure(2, free), "and again");
        assertNull(retries.afterFailure(2, BOOM), "a failure that counts on the last run ends it");
        assertEquals(new RunRetries.NextRun(Duration.ZERO, false),
                new RunRetries(definition(0, 0, Backoff.FIXED)).afterFailure(1, new RetryLater(Duration.ZERO, "x", false)),
                "also with attempts 0");
    }

    @Test
    void aStopIsNeverRetried() {
        RunRetries retries = new RunRetries(definition(5, 700, Backoff.FIXED));
        assertNull(retries.afterFailure(1, new RunStoppedException("run 1 stopped: canceled")));
        assertFalse(RunRetries.retryable(new RunStoppedException("x")));
    }

    @Test
    void aBadWaitIsRefusedWhereTheRequestIsMade() {
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> new RetryLater(Duration.ofMillis(-5), "429"));
        assertEquals("RetryLater: the wait -5 ms is negative; expected 0 to 168h (604800000 ms)", negative.getMessage());
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> new RetryLater(Duration.ofDays(8), "429"));
        assertEquals("RetryLater: the wait 691200000 ms (192h) is longer than the limit of 168h (604800000 ms)",
                tooLong.getMessage());
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> new RetryLater(Duration.ofSeconds(Long.MAX_VALUE), "429"));
        assertTrue(huge.getMessage().contains("the wait 9223372036854775807 s is longer than the limit"), huge.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RetryLater(null, "429"));
        assertEquals(RetryLater.MAX_WAIT, new RetryLater(RetryLater.MAX_WAIT, "at the limit").waitBeforeNextRun());
        assertEquals("retry later", new RetryLater(Duration.ZERO, null).getMessage());
    }
}
