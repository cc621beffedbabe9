package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.RedisCommandExecutionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A failure that repeats is logged once per interval; a new cause at once; recovery once. Plain logic, a fake clock. */
class RateLimitedLogTest {
    private final Logger logger = (Logger) LoggerFactory.getLogger("rate-limited-log-test");
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final AtomicLong nanos = new AtomicLong();
    private final RateLimitedLog log = new RateLimitedLog(logger, "heartbeat", Duration.ofSeconds(30), nanos::get);

    @BeforeEach
    void attach() {
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
    }

    private List<String> lines() {
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static RuntimeException redisSaid(String task, String reply) {
        return new TaskpoolException("Redis at x failed to extend the leases of " + task + ": " + reply,
                new RedisCommandExecutionException(reply));
    }

    @Test
    void theSameCauseIsLoggedOncePerIntervalWithTheCountLeftOut() {
        String oom = "OOM command not allowed when used memory > 'maxmemory'.";
        assertTrue(log.failed("task a", redisSaid("a", oom)));
        for (int i = 0; i < 200; i++) {
            nanos.addAndGet(Duration.ofMillis(100).toNanos());
            log.failed("task " + (i % 2 == 0 ? "a" : "b"), redisSaid(i % 2 == 0 ? "a" : "b", oom));
        }
        assertEquals(1, lines().size(), "20 s of failures of two tasks, one line: " + lines());
        assertTrue(lines().getFirst().contains("Redis is full"), lines().getFirst());
        assertTrue(lines().getFirst().contains("task a"), lines().getFirst());
        nanos.addAndGet(Duration.ofSeconds(10).toNanos());
        assertTrue(log.failed("task a", redisSaid("a", oom)));
        assertEquals(2, lines().size());
        assertTrue(lines().get(1).contains("still failing") && lines().get(1).contains("200 more failure(s)"), lines().get(1));
    }

    @Test
    void anotherCauseIsLoggedAtOnceAndRecoveryIsSaidOnce() {
        assertTrue(log.failed("task a", redisSaid("a", "OOM command not allowed when used memory > 'maxmemory'.")));
        assertTrue(log.failed("task a", redisSaid("a", "WRONGTYPE taskpool:{a}:leases holds a string, expected a sorted set")));
        assertFalse(log.failed("task a", redisSaid("a", "WRONGTYPE taskpool:{a}:leases holds a string, expected a sorted set")));
        log.succeeded();
        log.succeeded();
        assertEquals(3, lines().size(), lines().toString());
        assertEquals("heartbeat works again after 3 failure(s)", lines().get(2));
        // after recovery, the next failure is news again
        assertTrue(log.failed("task a", redisSaid("a", "OOM command not allowed when used memory > 'maxmemory'.")));
    }

    @Test
    void aCauseChainThatLoopsEndsAtTheLastCauseNotSeenBefore() {
        RuntimeException outer = new RuntimeException("outer");
        RuntimeException inner = new RuntimeException("inner 42", outer);
        outer.initCause(inner);
        assertEquals("java.lang.RuntimeException: inner #", RateLimitedLog.cause(outer));
    }
}
