package dev.taskpool.worker.exec;

import java.time.InstantSource;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The timers one kind's pump sets for the due times of delayed tasks it was told to watch (see
 * {@code watchDue} in {@code _due.lua}: one idle worker per due time). A BLPOP cannot stand in for
 * them: Redis times out blocked clients on its {@code hz} tick (10 a second by default), so a
 * blocking wait ends up to 100 ms late; a local timer fires within a millisecond or two.
 *
 * <p>A timer fires when the worker's estimate of Redis' clock (which never runs ahead of it)
 * reaches the due time; should the estimate have moved back since the timer was set, it waits out
 * the rest, so the fetch it leads to never comes before the task is due by that clock.
 */
final class DueTimers {
    private final ScheduledExecutorService timers;
    private final InstantSource clock;
    private final Runnable reached;
    /** The due times with a timer set: one timer per time, however often it is learned. */
    private final Set<Long> set = ConcurrentHashMap.newKeySet();

    /**
     * @param reached what to do when a due time is reached (fetch, or have Redis move the due
     *                tasks when every slot is busy); runs on a timer thread and must not block
     */
    DueTimers(ScheduledExecutorService timers, InstantSource clock, Runnable reached) {
        this.timers = timers;
        this.clock = clock;
        this.reached = reached;
    }

    /** Sets a timer for {@code due} (epoch ms, Redis' clock), unless one is set already. */
    void watch(long due) {
        if (set.add(due)) {
            schedule(due);
        }
    }

    private void schedule(long due) {
        try {
            timers.schedule(() -> fire(due), Math.max(0, due - clock.millis()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            set.remove(due);   // the worker is stopping: it fetches no more
        }
    }

    private void fire(long due) {
        if (clock.millis() < due) {
            schedule(due);
            return;
        }
        set.remove(due);
        reached.run();
    }
}
