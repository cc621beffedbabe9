package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The claim an attempt's end and its stops race for, without Redis or scripts. */
class AttemptStopTest {

    @Test
    void theUsualEndClaimsTheAttemptBeforeAnyStop() {
        AttemptStop attempt = AttemptStop.onThisThread(System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        assertTrue(attempt.leave(), "nothing stopped it: its thread carries on");
        assertFalse(attempt.claim(AttemptStop.Claim.TIMED_OUT), "a timeout after the end is too late");
        assertFalse(attempt.timedOut());
    }

    @Test
    void aTimeoutClaimedFirstStaysTheAttemptsEnd() {
        long now = System.nanoTime();
        AttemptStop attempt = AttemptStop.onThisThread(now);
        assertTrue(attempt.isDue(now), "due at its deadline");
        assertTrue(attempt.claim(AttemptStop.Claim.TIMED_OUT));
        assertFalse(attempt.isDue(now), "claimed once only: the deadline check does not stop it twice");
        assertFalse(attempt.claim(AttemptStop.Claim.ORDERED), "a later stop order does not claim it again");
        assertTrue(attempt.leave(), "not abandoned: its thread carries on");
        assertTrue(attempt.timedOut());
    }

    @Test
    void anAttemptStoppedBeforeItsThreadStartedRefusesToStart() throws Exception {
        AttemptStop attempt = AttemptStop.notStarted();
        assertFalse(attempt.isDue(System.nanoTime()), "whoever waits for it times it, not the deadline check");
        assertTrue(attempt.claim(AttemptStop.Claim.TIMED_OUT));
        assertFalse(CompletableFuture.supplyAsync(attempt::enter).get(30, TimeUnit.SECONDS));
    }

    @Test
    void anAttemptThatStartedEntersOnItsOwnThread() throws Exception {
        AttemptStop attempt = AttemptStop.notStarted();
        assertTrue(CompletableFuture.supplyAsync(attempt::enter).get(30, TimeUnit.SECONDS));
        assertTrue(attempt.threadName().length() > 0 && !attempt.threadName().equals("?"));
    }
}
