package dev.taskpool.core.connect;

/**
 * Hears how long each Redis command took, for metrics: the connection hands it every completed
 * command (see {@link LettuceLatencies}), so code outside the Redis seam records latencies without
 * knowing the Redis client library.
 */
@FunctionalInterface
public interface CommandLatencies {
    /**
     * One command completed. Called on the connection's I/O thread: it must return at once.
     *
     * @param command the command's name as Redis knows it (EVALSHA, BLPOP...)
     * @param remote  the Redis server that answered (its socket address)
     * @param nanos   from sending the command to receiving its complete reply
     */
    void completed(String command, String remote, long nanos);
}
