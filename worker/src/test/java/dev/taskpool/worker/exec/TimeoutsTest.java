package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisTimeouts;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The worker's waits and the start-up checks of its settings (no Redis needed). */
class TimeoutsTest {
    private static final RedisTimeouts TEN_SECOND_COMMANDS = new RedisTimeouts(Duration.ofSeconds(10));

    @Test
    void theHeartbeatWaitEndsSoThatTheNextBeatComesBeforeTheLeaseLapses() {
        // The defaults: an 11 s reply wait is cut to lease 10s - heartbeat 3s.
        Timeouts defaults = new Timeouts(TEN_SECOND_COMMANDS, WorkerSettings.defaults());
        assertEquals(Duration.ofSeconds(7), defaults.heartbeatWait());
        // The short lease tests use is valid: 2s - 400ms.
        Timeouts tests = new Timeouts(TEN_SECOND_COMMANDS,
                WorkerSettings.defaults().withLease(Duration.ofSeconds(2), Duration.ofMillis(400)));
        assertEquals(Duration.ofMillis(1600), tests.heartbeatWait());
        // A long lease keeps the whole reply wait.
        Timeouts longLease = new Timeouts(TEN_SECOND_COMMANDS,
                WorkerSettings.defaults().withLease(Duration.ofMinutes(2), Duration.ofSeconds(40)));
        assertEquals(Duration.ofSeconds(11), longLease.heartbeatWait());
        for (Timeouts timeouts : new Timeouts[] {defaults, tests, longLease}) {
            assertTrue(timeouts.heartbeatWait().compareTo(timeouts.replyWait()) <= 0);
        }
    }

    @Test
    void presenceOutlivesAFewMissedBeats() {
        Timeouts defaults = new Timeouts(TEN_SECOND_COMMANDS, WorkerSettings.defaults());
        assertEquals(Duration.ofSeconds(30), defaults.presenceRecordLife());
        assertEquals(Duration.ofSeconds(11), defaults.replyWait());
    }

    @Test
    void aHeartbeatThatDoesNotComeBeforeTheLeaseLapsesIsRefusedInTheUnitsItWasGiven() {
        WorkerSettings defaults = WorkerSettings.defaults();
        IllegalArgumentException tooSlow = assertThrows(IllegalArgumentException.class,
                () -> defaults.withLease(Duration.ofSeconds(10), Duration.ofSeconds(12)));
        assertEquals("the heartbeat interval 12s must be shorter than the lease 10s", tooSlow.getMessage());
        IllegalArgumentException equal = assertThrows(IllegalArgumentException.class,
                () -> defaults.withLease(Duration.ofMillis(1500), Duration.ofMillis(1500)));
        assertEquals("the heartbeat interval 1.5s must be shorter than the lease 1.5s", equal.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> defaults.withLease(Duration.ofSeconds(10), Duration.ZERO));
        assertEquals("the heartbeat interval must be longer than 0, got 0ms", none.getMessage());
    }

    @Test
    void zeroPeriodsAndNegativeWaitsAreRefusedShortOnesAllowed() {
        WorkerSettings defaults = WorkerSettings.defaults();
        assertEquals("the recover interval must be longer than 0, got 0ms", assertThrows(IllegalArgumentException.class,
                () -> defaults.withRecoverInterval(Duration.ZERO)).getMessage());
        assertEquals("the shutdown grace must not be negative, got -1s", assertThrows(IllegalArgumentException.class,
                () -> defaults.withShutdownGrace(Duration.ofSeconds(-1))).getMessage());
        assertEquals("the abandon wait must not be negative, got -5ms", assertThrows(IllegalArgumentException.class,
                () -> defaults.withAbandonAfter(Duration.ofMillis(-5))).getMessage());
        // What tests use: no grace, an abandon wait shorter than the interrupt limit, a 1 s lease.
        defaults.withShutdownGrace(Duration.ZERO).withAbandonAfter(Duration.ofMillis(500))
                .withLease(Duration.ofSeconds(1), Duration.ofMillis(200));
    }

    @Test
    void theCommandLineNamesItsOptions() {
        Timeouts.Names options = new Timeouts.Names("--lease", "--heartbeat", "--recover-every", "--grace",
                "--abandon-after", "the idle block");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> Timeouts.requireWorkable(Duration.ofSeconds(10), Duration.ofSeconds(12), Duration.ofSeconds(4),
                        Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(2), options));
        assertEquals("--heartbeat 12s must be shorter than --lease 10s", refused.getMessage());
    }
}
