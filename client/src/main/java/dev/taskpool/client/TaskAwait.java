package dev.taskpool.client;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@link TaskpoolClient#await}: waiting for one task to end, by its events and by reading its hash. */
final class TaskAwait {
    /** How often the hash is re-read, in case pub/sub dropped a message in a reconnect. */
    private static final Duration RECHECK = Duration.ofSeconds(1);

    private TaskAwait() {
    }

    /**
     * Subscribes to the task's events first and reads the hash after, so that a completion is never
     * missed; then re-reads the hash on each final event, and every second in any case.
     */
    static TaskInfo until(TaskpoolClient client, String task, long id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        CompletableFuture<TaskEvent> ended = new CompletableFuture<>();
        try (Subscription ignored = client.subscribe(task, id, event -> {
            if (event.isFinal()) {
                ended.complete(event);
            }
        })) {
            while (true) {
                TaskInfo info = client.get(task, id).orElseThrow(() -> new UnknownTaskException(
                        "task " + task + " #" + id + " does not exist (never added, or expired after its retention)"));
                if (info.status().isFinished()) {
                    return info;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TaskpoolException("task " + task + " #" + id + " did not finish within "
                            + Durations.text(timeout) + " (status " + info.status() + ")");
                }
                try {
                    ended.get(Math.min(left, RECHECK.toNanos()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    // re-read the hash: it is the truth
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TaskpoolException("interrupted while awaiting task " + task + " #" + id, e);
                }
            }
        }
    }
}
