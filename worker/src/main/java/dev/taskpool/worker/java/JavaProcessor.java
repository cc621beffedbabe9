package dev.taskpool.worker.java;

import java.util.List;

/**
 * A kind's processor written in Java, for {@code EmbeddedWorker.Builder.task(kind, processor)}:
 * the task's arguments as plain JSON values (Map, List, String, Long, Double, Boolean, null), the
 * run's context; what it returns is the response. An exception fails the run.
 */
@FunctionalInterface
public interface JavaProcessor {
    Object process(List<Object> args, TaskContext context) throws Exception;
}
