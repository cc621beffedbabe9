package dev.taskpool.worker.exec;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every run of a worker process shares: its settings, the timer that stops runs at their
 * timeout, and the pool of processor threads (processors and handlers run there, so that one that
 * ignores its interrupt can be abandoned without holding a slot).
 */
record WorkerContext(WorkerSettings settings, ScheduledExecutorService timers, ExecutorService processors) {
    /** How long a run's waiter gives a stopped processor to return before abandoning it. */
    static final Duration STOP_WAIT = Duration.ofSeconds(1);
}
