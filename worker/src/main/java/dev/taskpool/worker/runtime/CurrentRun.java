package dev.taskpool.worker.runtime;

import java.util.Optional;

/**
 * The task a thread is running, so that {@code Progress(...)} inside a processor lands on that
 * task whatever task or process name the script passes (as the seed's example does), and is
 * recorded only while the run still holds its lease (the token is checked in Redis).
 */
public final class CurrentRun {
    /**
     * @param token   the lease token of this run (each run of a task has its own, operators' retries included)
     * @param attempt which run of the task this is (1: the first)
     */
    public record RunningTask(String task, long id, String token, String partition, int attempt) {
        /** Whether this run is the one running {@code task #id} (progress of another task needs no token). */
        public boolean runs(String otherTask, long otherId) {
            return task.equals(otherTask) && id == otherId;
        }
    }

    private static final ThreadLocal<RunningTask> RUNNING = new ThreadLocal<>();

    private CurrentRun() {
    }

    public static Optional<RunningTask> get() {
        return Optional.ofNullable(RUNNING.get());
    }

    /**
     * Marks this thread as running {@code task #id} (its run number {@code attempt}) under lease
     * {@code token} until the returned scope closes; {@code partition} holds the task (the kind
     * itself unless it is partitioned).
     */
    public static Scope enter(String task, long id, String token, String partition, int attempt) {
        RunningTask previous = RUNNING.get();
        RUNNING.set(new RunningTask(task, id, token, partition, attempt));
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
