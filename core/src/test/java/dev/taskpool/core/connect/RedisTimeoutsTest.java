package dev.taskpool.core.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The waits derived from the command timeout, and the order they must keep (no Redis needed). */
class RedisTimeoutsTest {
    private final RedisTimeouts defaults = new RedisTimeouts(Duration.ofSeconds(10));

    @Test
    void theDefaultCommandTimeoutGivesTheWaitsTheCodeUsedToWorkOutItself() {
        assertEquals(Duration.ofSeconds(11), defaults.replyWait());
        assertEquals(Duration.ofSeconds(10), defaults.addQueueWait());
        assertEquals(Duration.ofSeconds(11), defaults.addReplyWait(false));
        assertEquals(Duration.ofSeconds(21), defaults.addReplyWait(true));
        assertEquals(Duration.ofSeconds(30), defaults.defaultAddDeadline());
        assertEquals(Duration.ofSeconds(90), defaults.sendWindow(defaults.defaultAddDeadline()));
        assertEquals(Duration.ofSeconds(110), defaults.requestMemory(defaults.defaultAddDeadline()));
        assertEquals(Duration.ofSeconds(5), defaults.longestResendPause());
        assertEquals(Duration.ofSeconds(10), defaults.replicaCheckWait());
    }

    @Test
    void blockingWaitsStayUnderHalfTheCommandTimeoutAndAboveZero() {
        assertEquals(Duration.ofSeconds(2), defaults.blockingPopSlice(Duration.ofSeconds(2)));
        assertEquals(Duration.ofSeconds(5), defaults.blockingPopSlice(Duration.ofMinutes(1)));
        assertEquals(Duration.ofMillis(1), new RedisTimeouts(Duration.ofMillis(1)).blockingPopSlice(Duration.ofSeconds(1)));
        assertEquals(Duration.ofMillis(100), defaults.fenceWait(Duration.ofMillis(100)));
        assertEquals(Duration.ofSeconds(5), defaults.fenceWait(Duration.ofSeconds(30)));
        assertEquals(Duration.ofMillis(1), defaults.fenceWait(Duration.ZERO));
        assertEquals(Duration.ofMillis(10_100), defaults.fenceReplyWait(Duration.ofMillis(100)));
    }

    @Test
    void aRequestIdOutlivesEverySendOfItsRequest() {
        for (Duration command : new Duration[] {Duration.ofMillis(200), Duration.ofSeconds(10), Duration.ofMinutes(1)}) {
            RedisTimeouts timeouts = new RedisTimeouts(command);
            Duration deadline = timeouts.defaultAddDeadline();
            // the last send starts within the window and Lettuce drops it a command timeout later
            assertTrue(timeouts.requestMemory(deadline).compareTo(timeouts.sendWindow(deadline).plus(command)) > 0);
            // a reply is waited for longer than Lettuce takes to time the command out itself
            assertTrue(timeouts.replyWait().compareTo(command) > 0);
            assertTrue(timeouts.blockingPopSlice(Duration.ofDays(1)).compareTo(command) < 0);
        }
    }

    @Test
    void aCommandTimeoutMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new RedisTimeouts(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new RedisTimeouts(Duration.ofSeconds(-1)));
    }
}
