package dev.taskpool.worker.exec;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every thread the runs of one task kind use in this worker, all owned here so that a stopping
 * worker interrupts each one and waits for it ({@link #stop}); none is started bare. They are
 * virtual and named after the task:
 * <ul>
 *   <li>{@code run-<task>-N}: the run threads, one per slot and kept between runs rather than
 *       made per run (a script context sets up per-thread state for every new thread that enters
 *       it). A run started while every thread is still on its way back from the run before (its
 *       slot is free as soon as its result went to the pump) waits for the first one back, a few
 *       microseconds: the pool never grows past the slots for that. It grows by one thread only
 *       while an abandoned run's thread is still stuck, for the takeover that carries its run on
 *       in the same slot, and shrinks again when the stuck thread comes back. So an idle thread
 *       always waits without a time limit: with more threads than its core size, a pool would
 *       make every idle thread wait with one, which costs a timer per run (measured: about a
 *       fifth of a script run's CPU);</li>
 *   <li>{@code stop-<task>-N}: one per attempt being stopped (it waits for the script to notice
 *       its interrupt, then up to {@code --abandon-after});</li>
 *   <li>{@code record-<task>-N}: one per result recorded alone because its batch failed (it
 *       tries again with back-off for up to a lease period).</li>
 * </ul>
 */
final class RunThreads {
    private static final Logger log = LoggerFactory.getLogger(RunThreads.class);
    /** How long a stopping worker waits for the threads to end once they were interrupted. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(2);

    private final String task;
    private final ThreadPoolExecutor runs;
    /** Threads the run pool has beyond the slots, one per abandoned thread still stuck. */
    private int grownBy;
    private final ExecutorService stoppers;
    private final ExecutorService recorders;

    RunThreads(String task, int slots) {
        this.task = task;
        this.runs = new ThreadPoolExecutor(slots, slots, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                Thread.ofVirtual().name("run-" + task + "-", 1).factory());
        this.stoppers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("stop-" + task + "-", 1).factory());
        this.recorders = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("record-" + task + "-", 1).factory());
    }

    /** Starts a fetched run on a run thread; throws {@link RejectedExecutionException} once stopped. */
    void startRun(Runnable run) {
        runs.execute(run);
    }

    /**
     * Carries a run on from an abandoned attempt, on a new run thread: the pool grows by one for as
     * long as the abandoned thread is stuck ({@link #abandonedThreadReturned}); false once stopped.
     */
    boolean startTakeover(Runnable takeover) {
        resize(1);
        if (startOn(runs, takeover)) {
            return true;
        }
        resize(-1);
        return false;
    }

    /** The thread of an abandoned attempt came back (its processor returned at last): the pool shrinks by the thread it grew for it. */
    synchronized void abandonedThreadReturned() {
        if (grownBy > 0) {   // (none when its takeover could not start: the worker had stopped)
            resize(-1);
        }
    }

    /** How many run threads the pool may have now: the slots, and one more per abandoned thread still stuck. */
    synchronized int runThreadLimit() {
        return runs.getMaximumPoolSize();
    }

    /** Grows (+1) or shrinks (-1) the run threads; the core size is the whole size, so no idle thread waits with a time limit. */
    private synchronized void resize(int by) {
        grownBy += by;
        int size = runs.getCorePoolSize() + by;
        if (by > 0) {
            runs.setMaximumPoolSize(size);
            runs.setCorePoolSize(size);
        } else {
            runs.setCorePoolSize(size);
            runs.setMaximumPoolSize(size);
        }
    }

    /** Stops an attempt on a thread of its own; false once stopped (the run threads were interrupted then). */
    boolean startStopping(Runnable stopping) {
        return startOn(stoppers, stopping);
    }

    /** Records a result alone on a thread of its own; false once stopped. */
    boolean startRecording(Runnable recording) {
        return startOn(recorders, recording);
    }

    private static boolean startOn(ExecutorService threads, Runnable work) {
        try {
            threads.execute(work);
            return true;
        } catch (RejectedExecutionException stopped) {
            return false;
        }
    }

    /**
     * Starts no more threads; results being recorded alone get until {@code recordingDeadlineNanos}
     * to finish; then every thread is interrupted and waited for, at most {@link #STOP_WAIT}. Only
     * a processor that ignores its interrupt keeps its run thread past that (it was abandoned).
     */
    void stop(long recordingDeadlineNanos) throws InterruptedException {
        recorders.shutdown();
        recorders.awaitTermination(Math.max(0, recordingDeadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        List<ExecutorService> all = List.of(stoppers, recorders, runs);
        all.forEach(ExecutorService::shutdownNow);
        long deadline = System.nanoTime() + STOP_WAIT.toNanos();
        for (ExecutorService threads : all) {
            threads.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        if (!runs.isTerminated()) {
            log.warn("task {}: {} run thread(s) still busy after the stop (processors that ignore their interrupt);"
                    + " each ends when its processor returns", task, runs.getActiveCount());
        }
    }
}
