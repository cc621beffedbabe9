package dev.taskpool.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** The tests' one way to wait for a condition: it fails the test when the time runs out, never returns quietly. */
public final class Wait {
    private Wait() {
    }

    /**
     * Polls {@code condition} every 20 ms until it holds; throws an {@link AssertionError} naming
     * {@code what} when it still does not hold after {@code limit}. An exception from the
     * condition (e.g. Redis away for a moment) counts as "not yet" and is reported on timeout.
     */
    public static void until(String what, Duration limit, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        RuntimeException lastError = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
                lastError = null;
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                AssertionError failure = new AssertionError("timed out after " + limit.toMillis() + " ms waiting for: " + what
                        + (lastError == null ? "" : " (last attempt failed: " + lastError.getMessage() + ")"));
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + what, e);
            }
        }
    }
}
