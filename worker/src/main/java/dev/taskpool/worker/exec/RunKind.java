package dev.taskpool.worker.exec;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.worker.runtime.AppRuntime;

/**
 * What every run of one task kind in this worker shares: the kind's definition, the app's runtime,
 * the worker's settings and timer, the kind's threads, how it records a transition on its own (a
 * retry, a result recorded alone) and its retry policy.
 */
record RunKind(TaskDefinition definition, AppRuntime runtime, WorkerContext worker, RunThreads threads,
               TransitionWrites transitions, RunRetries retries) {
}
