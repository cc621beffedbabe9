package dev.taskpool.worker.exec;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every run of a worker process shares: its settings, the one timer thread (the deadline
 * check that finds runs past their timeout, the pump's back-off; nothing that may block), and the
 * (virtual) threads event handlers run on, so that one that ignores its interrupt can be abandoned.
 */
record WorkerContext(WorkerSettings settings, ScheduledExecutorService timers, ExecutorService processors) {
}
