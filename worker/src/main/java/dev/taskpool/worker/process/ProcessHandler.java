package dev.taskpool.worker.process;

import java.util.List;

/**
 * A process implemented in Java, e.g. {@code models.task.save} offered by an embedding app.
 * Arguments and the result are plain Java values: Map, List, String, Long, Double, Boolean, null.
 */
@FunctionalInterface
public interface ProcessHandler {
    Object call(List<Object> args);
}
