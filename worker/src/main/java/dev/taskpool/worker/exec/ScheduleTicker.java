package dev.taskpool.worker.exec;

import dev.taskpool.core.schedule.ScheduleFirer;
import dev.taskpool.worker.runtime.AppRuntime;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires the schedules from one worker, beside its {@link Recoverer} and {@link Heartbeat}. Every worker runs one: there is no leader, the firing
 * scripts let exactly one worker make each firing (see {@link ScheduleFirer}). It looks at every
 * schedule, then sleeps until the earliest next fire time but never more than {@link #LOOK_EVERY_MS}, so
 * a Stop, a Start, a trigger or a schedule a client created is seen within a second. A process
 * firing this worker won runs on a virtual thread of its own; its failure is recorded in the
 * schedule's {@code last_error}. Time is the runtime's clock.
 */
public final class ScheduleTicker implements AutoCloseable {
    /** The longest sleep between two looks at the schedules. */
    public static final long LOOK_EVERY_MS = 1000;
    private static final Logger log = LoggerFactory.getLogger(ScheduleTicker.class);

    private final AppRuntime runtime;
    private final ScheduleFirer firer;
    private final InstantSource clock;
    private final RateLimitedLog failures = new RateLimitedLog(log, "firing schedules", RateLimitedLog.INTERVAL);
    private final ExecutorService processes = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("schedule-process-", 1).factory());
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition stopped = lock.newCondition();
    private volatile boolean closed;
    private Thread thread;

    public ScheduleTicker(AppRuntime runtime) {
        this.runtime = runtime;
        this.clock = runtime.clock();
        this.firer = new ScheduleFirer(runtime.redis(), System::getenv, runtime::canRun);
    }

    public ScheduleTicker start() {
        thread = Thread.ofPlatform().daemon().name("schedule-ticker").start(this::loop);
        return this;
    }

    private void loop() {
        while (!closed) {
            long wait = LOOK_EVERY_MS;
            try {
                ScheduleFirer.Round round = firer.fire(clock.millis());
                if (round.failures().isEmpty()) {
                    failures.succeeded();
                }
                round.failures().forEach(failure -> failures.failed("a schedule", failure));
                round.processes().forEach(firing -> processes.execute(() -> run(firing)));
                if (round.nextDue() != 0) {
                    wait = Math.clamp(round.nextDue() - clock.millis(), 0, LOOK_EVERY_MS);
                }
            } catch (RuntimeException e) {
                failures.failed("every schedule", e);
            }
            sleep(wait);
        }
    }

    private void run(ScheduleFirer.ProcessFiring firing) {
        String error = null;
        try {
            runtime.call(firing.process(), firing.args());
        } catch (RuntimeException e) {
            error = firing.process() + " failed: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            log.warn("schedule {}: the firing of {} failed: {}", firing.scheduleId(), firing.fireAt(), error);
        }
        try {
            firer.recordProcessResult(firing.scheduleId(), error);
        } catch (RuntimeException e) {
            log.warn("schedule {}: could not record the result of its firing: {}", firing.scheduleId(), e.getMessage());
        }
    }

    private void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        lock.lock();
        try {
            if (!closed) {
                stopped.await(millis, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    /** Stops looking (a look in progress ends first) and interrupts the process firings still running. */
    @Override
    public void close() {
        closed = true;
        lock.lock();
        try {
            stopped.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            if (thread != null) {
                thread.join(5000);
            }
            processes.shutdownNow();
            processes.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
