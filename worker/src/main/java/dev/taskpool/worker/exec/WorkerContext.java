package dev.taskpool.worker.exec;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every run of a worker process shares: its settings, the timer that stops runs at their
 * timeout, and the (virtual) threads event handlers run on, so that one that ignores its
 * interrupt can be abandoned.
 */
record WorkerContext(WorkerSettings settings, ScheduledExecutorService timers, ExecutorService processors) {
}
