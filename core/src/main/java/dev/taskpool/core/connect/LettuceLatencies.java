package dev.taskpool.core.connect;

import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.protocol.ProtocolKeyword;
import java.net.SocketAddress;

/**
 * {@link CommandLatencies} as Lettuce's client resources take a latency recorder: each command's
 * completion time, named by command and server. (The first-response time Lettuce also measures is
 * left out: for these commands it is within a hair of completion.)
 */
public final class LettuceLatencies implements CommandLatencyRecorder {
    private final CommandLatencies latencies;

    private LettuceLatencies(CommandLatencies latencies) {
        this.latencies = latencies;
    }

    /** The recorder handing every command's latency to {@code latencies}; null for null (nothing recorded). */
    public static CommandLatencyRecorder of(CommandLatencies latencies) {
        return latencies == null ? null : new LettuceLatencies(latencies);
    }

    @Override
    public void recordCommandLatency(SocketAddress local, SocketAddress remote, ProtocolKeyword commandType,
                                     long firstResponseLatency, long completionLatency) {
        latencies.completed(commandType.toString(), String.valueOf(remote), completionLatency);
    }
}
