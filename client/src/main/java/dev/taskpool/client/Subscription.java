package dev.taskpool.client;

/** A live subscription to task events; closing it stops the deliveries. */
@FunctionalInterface
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}
