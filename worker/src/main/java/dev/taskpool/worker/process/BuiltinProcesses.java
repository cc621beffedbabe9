package dev.taskpool.worker.process;

import java.util.List;

/** The processes every runtime has, as Yao has them. */
final class BuiltinProcesses {
    /** The longest single sleep: a script that wants longer can loop. */
    static final long MAX_SLEEP_MS = 24L * 3600 * 1000;

    private BuiltinProcesses() {
    }

    /** {@code utils.time.Sleep(ms)}: waits without burning CPU; a run's timeout interrupts it. */
    static Object sleep(List<Object> args) {
        if (args.size() != 1 || !(args.getFirst() instanceof Number number)) {
            throw new ProcessException("utils.time.Sleep expects one argument, the milliseconds to sleep, got " + args);
        }
        double millis = number.doubleValue();
        if (!(millis >= 0) || millis > MAX_SLEEP_MS) {
            throw new ProcessException("utils.time.Sleep: milliseconds must be from 0 to " + MAX_SLEEP_MS + ", got " + number);
        }
        try {
            Thread.sleep((long) millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProcessException("utils.time.Sleep was interrupted");
        }
        return null;
    }
}
