package dev.taskpool.worker.exec;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.run.DelayedCheck;
import dev.taskpool.core.run.RecoverResult;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.worker.runtime.AppRuntime;
import dev.taskpool.worker.script.ScriptError;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts tasks whose lease expired (their worker died or hung) back in the queue, counting the lost
 * run as failed; tasks out of runs end in FAILURE and get their {@code error} event here (run like
 * a run's own handler: see {@link EventHandler}); removes entries of the delayed set whose task is
 * gone or not WAITING, one window of it per pass ({@link DelayedCheck}), and moves due delayed
 * tasks to the queue. Every
 * worker runs one: the work is one atomic script, so two recoverers never handle a task twice.
 */
final class Recoverer implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Recoverer.class);
    private static final int BATCH = 100;
    /** Entries of a kind's delayed set checked per pass: a set of a million is walked over many passes. */
    static final int DELAYED_WINDOW = 500;
    /** Due delayed tasks moved per call: as a fetch does, about a millisecond of Redis' time. */
    private static final int DUE_STEP = 1000;
    /** How long one pass moves due tasks of one kind at most. */
    private static final Duration DUE_BUDGET = Duration.ofMillis(200);

    /** What each pass looks after: every partition of every kind served (the kind itself for most). */
    private final List<TaskConsumer> served;
    private final AppRuntime runtime;
    private final WorkerContext worker;
    /** A recovery that keeps failing (Redis full or unreachable, a broken key) is logged once per interval. */
    private final RateLimitedLog failures = new RateLimitedLog(log, "recovery", RateLimitedLog.INTERVAL);
    private final DelayedCheck delayedCheck;
    /** Per kind: the rank of the delayed set the next check starts at (this worker's own walk). */
    private final Map<String, Long> delayedStarts = new HashMap<>();

    Recoverer(List<TaskConsumer> served, AppRuntime runtime, WorkerContext worker) {
        this.served = served;
        this.runtime = runtime;
        this.worker = worker;
        this.delayedCheck = new DelayedCheck(runtime.redis());
    }

    /**
     * Moves due delayed tasks to the queue, a step of {@link #DUE_STEP} per call, for at most
     * {@link #DUE_BUDGET} per kind and pass. The fetches of workers with free slots move them too;
     * this keeps them moving (and counted as ready) while every slot is busy, without holding this
     * thread long: a million falling due at once move over the passes and fetches that follow.
     */
    private void promoteDue(String partition) {
        long until = System.nanoTime() + DUE_BUDGET.toNanos();
        RunStore.DuePromotion promotion;
        do {
            promotion = runtime.runs().await(runtime.runs().promoteDue(partition, runtime.clock().millis(), DUE_STEP),
                    "move due delayed tasks of " + partition + " to the queue");
        } while (promotion.moved() >= DUE_STEP && System.nanoTime() < until);
    }

    @Override
    public void run() {
        boolean allRecovered = true;
        for (TaskConsumer consumer : served) {
            TaskDefinition definition = consumer.definition();
            String partition = consumer.partition();
            try {
                RecoverResult result;
                do {
                    result = runtime.runs().await(runtime.runs().recover(partition, definition, runtime.clock().millis(), BATCH),
                            "recover expired leases of " + partition);
                    for (RecoverResult.Dropped dropped : result.dropped()) {
                        log.warn("task {}: removed '{}' from the running leases: {}", definition.id(), dropped.member(),
                                dropped.reason());
                    }
                    if (result.requeued() + result.failed().size() > 0) {
                        runtime.metrics().recovered(definition.id(), result.requeued() + result.failed().size());
                    }
                    if (result.requeued() > 0) {
                        log.warn("task {}: {} task(s) with an expired lease put back in the queue", definition.id(), result.requeued());
                    }
                    for (long id : result.failed()) {
                        String error = runtime.reads().get(partition, id).map(TaskInfo::error).orElse("lease expired");
                        log.warn("task {} #{}: FAILURE, out of runs after its lease expired", definition.id(), id);
                        runtime.metrics().failed(definition.id());
                        String handler = definition.events().error();
                        if (handler != null) {
                            // Like a run's own handler: off this thread (the heartbeat's), under the task's timeout.
                            EventHandler.start(worker, runtime, definition, "error", handler, id,
                                    Arrays.asList(id, new ScriptError(error)), () -> { });
                        }
                    }
                } while (result.handled() >= BATCH);
                // dangling entries go before they could be moved to the queue
                checkDelayed(partition);
                promoteDue(partition);
            } catch (RuntimeException e) {
                allRecovered = false;
                failures.failed("task " + partition, e);
            }
        }
        if (allRecovered) {
            failures.succeeded();
        }
    }

    /** One window of the kind's delayed set: entries whose task is gone or not WAITING are removed. */
    private void checkDelayed(String task) {
        long start = delayedStarts.getOrDefault(task, 0L);
        DelayedCheck.Window window = runtime.runs().await(delayedCheck.check(task, start, DELAYED_WINDOW),
                "check the delayed tasks of " + task);
        delayedStarts.put(task, window.nextStart());
        for (RecoverResult.Dropped removed : window.removed()) {
            log.warn("task {}: removed '{}' from the delayed tasks: {}", task, removed.member(), removed.reason());
        }
    }
}
