package dev.taskpool.worker.exec;

import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.TransitionResult;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link TaskRun} asks of the task kind that started it, and nothing more: the pump records
 * its result, takes its slot back, and the run table lets it go. (The run knows no
 * {@link TaskConsumer}: calls go one way, from the consumer down to its runs, and back only
 * through here.)
 */
interface RunHost {
    /**
     * Hands a finished run's result to the pump, which records it in its next round trip; completes
     * with Redis's answer.
     */
    CompletableFuture<TransitionResult> submit(RunStore.Completion completion);

    /** The run gives its slot back (when its result goes to the pump, or when it ends otherwise); once per run. */
    void releaseSlot();

    /** The run is over for this worker: it leaves the run table (and so the heartbeat); once per run. */
    void ended(TaskRun run);
}
