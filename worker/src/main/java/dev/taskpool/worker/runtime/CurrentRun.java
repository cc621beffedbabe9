package dev.taskpool.worker.runtime;

import java.util.Optional;

/**
 * The task a thread is running, so that {@code Progress(...)} inside a processor lands on that
 * task whatever task or process name the script passes (as the seed's example does).
 */
public final class CurrentRun {
    /** @param token the run's lease token, so that what the run records can be checked against its lease */
    public record RunningTask(String task, long id, String token) {
    }

    private static final ThreadLocal<RunningTask> RUNNING = new ThreadLocal<>();

    private CurrentRun() {
    }

    public static Optional<RunningTask> get() {
        return Optional.ofNullable(RUNNING.get());
    }

    /** Marks this thread as running {@code task #id} under lease {@code token} until the returned scope closes. */
    public static Scope enter(String task, long id, String token) {
        RunningTask previous = RUNNING.get();
        RUNNING.set(new RunningTask(task, id, token));
        return () -> {
            if (previous == null) {
                RUNNING.remove();
            } else {
                RUNNING.set(previous);
            }
        };
    }

    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
