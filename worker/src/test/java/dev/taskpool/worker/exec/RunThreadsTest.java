package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The run threads: one per slot, one more only while an abandoned thread is stuck (plain logic, no Redis). */
class RunThreadsTest {
    private static final long WAIT_SECONDS = 30;   // generous: a loaded machine must not fail these

    @Test
    void aRunThatComesWhileEverySlotsThreadIsBusyWaitsForOneInsteadOfGrowingThePool() throws Exception {
        RunThreads threads = new RunThreads("t", 1);
        CountDownLatch firstRunning = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CountDownLatch secondRan = new CountDownLatch(1);
        try {
            threads.startRun(() -> {
                firstRunning.countDown();
                await(releaseFirst);
            });
            assertTrue(firstRunning.await(WAIT_SECONDS, TimeUnit.SECONDS));
            threads.startRun(secondRan::countDown);
            assertFalse(secondRan.await(200, TimeUnit.MILLISECONDS), "one slot, one thread: the second run waits for it");
            assertEquals(1, threads.runThreadLimit());
            releaseFirst.countDown();
            assertTrue(secondRan.await(WAIT_SECONDS, TimeUnit.SECONDS), "the thread, back, takes the waiting run");
        } finally {
            releaseFirst.countDown();
            threads.stop(System.nanoTime());
        }
    }

    @Test
    void aTakeoverGrowsThePoolUntilTheAbandonedThreadComesBack() throws Exception {
        RunThreads threads = new RunThreads("t", 1);
        CountDownLatch stuckRunning = new CountDownLatch(1);
        CountDownLatch releaseStuck = new CountDownLatch(1);
        CountDownLatch takeoverRan = new CountDownLatch(1);
        CountDownLatch stuckBack = new CountDownLatch(1);
        try {
            threads.startRun(() -> {
                stuckRunning.countDown();
                await(releaseStuck);              // a processor that ignores its interrupt
                threads.abandonedThreadReturned();   // as TaskRun does when its abandoned attempt returns
                stuckBack.countDown();
            });
            assertTrue(stuckRunning.await(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(threads.startTakeover(takeoverRan::countDown));
            assertTrue(takeoverRan.await(WAIT_SECONDS, TimeUnit.SECONDS), "the takeover runs beside the stuck thread");
            assertEquals(2, threads.runThreadLimit());
            releaseStuck.countDown();
            assertTrue(stuckBack.await(WAIT_SECONDS, TimeUnit.SECONDS));
            assertEquals(1, threads.runThreadLimit(), "back to one thread per slot");
            CountDownLatch later = new CountDownLatch(1);
            threads.startRun(later::countDown);
            assertTrue(later.await(WAIT_SECONDS, TimeUnit.SECONDS), "runs still start after the pool shrank");
        } finally {
            releaseStuck.countDown();
            threads.stop(System.nanoTime());
        }
    }

    @Test
    void aReturningThreadWhoseTakeoverNeverStartedShrinksNothing() throws Exception {
        RunThreads threads = new RunThreads("t", 2);
        threads.stop(System.nanoTime());
        assertFalse(threads.startTakeover(() -> { }), "stopped: no takeover starts");
        threads.abandonedThreadReturned();
        assertEquals(2, threads.runThreadLimit(), "the pool keeps its slots' threads");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
