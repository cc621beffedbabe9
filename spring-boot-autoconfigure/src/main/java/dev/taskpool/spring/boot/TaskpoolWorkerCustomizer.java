package dev.taskpool.spring.boot;

import dev.taskpool.worker.EmbeddedWorker;

/**
 * Changes the embedded worker's builder before the worker starts: a bean of this type is applied
 * after the {@code taskpool.*} properties and the {@code @TaskProcessor} beans, in the beans'
 * order ({@code @Order}). For what the properties do not cover, e.g. a Java process that scripts
 * call ({@code builder.process("models.image.resize", args -> ...)}) or worker settings
 * ({@code builder.settings(s -> s.withLease(...))}).
 */
@FunctionalInterface
public interface TaskpoolWorkerCustomizer {
    void customize(EmbeddedWorker.Builder builder);
}
