package dev.taskpool.worker.metrics;

import java.util.function.IntSupplier;

/**
 * What a worker process reports about its own work, as it happens. Counts are this process's
 * own (a Prometheus user sums them over workers); kind-wide numbers that only Redis knows
 * (waiting, running, the totals of every process) are {@link KindGauges}. {@link #NONE}, the
 * default, keeps nothing and loads no metrics library: a worker without a registry pays nothing.
 */
public interface WorkerMetrics {
    WorkerMetrics NONE = new WorkerMetrics() {
    };

    /** This worker serves {@code task} with {@code totalSlots} slots; {@code busySlots} says how many hold a run now. */
    default void serving(String task, int totalSlots, IntSupplier busySlots) {
    }

    /** This process added {@code count} tasks of {@code task} (from a script or a Java call). */
    default void added(String task, int count) {
    }

    /** A run started that waited {@code waitedMs} since its task was added (first runs only). */
    default void started(String task, long waitedMs) {
    }

    /** One run of the processor ended, with a result ({@code succeeded}) or an error, after {@code nanos}. */
    default void runEnded(String task, boolean succeeded, long nanos) {
    }

    /** This worker recorded a task's end in SUCCESS. */
    default void succeeded(String task) {
    }

    /** This worker recorded a task's end in FAILURE (its last run failed, or the recoverer found it out of runs). */
    default void failed(String task) {
    }

    /** This worker recorded a failed run and started the next one. */
    default void retried(String task) {
    }

    /** This worker's recoverer handled {@code count} tasks whose lease had expired. */
    default void recovered(String task, int count) {
    }

    /** A run of this worker was stopped by an operator's cancel. */
    default void canceled(String task) {
    }
}
