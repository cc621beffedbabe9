package dev.taskpool.core.connect;

import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.api.sync.RedisServerCommands;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis' slow log of a standalone server, read as plain values: how long the commands that ran
 * past a threshold held Redis, measured by Redis itself (the time inside the command, which is
 * what blocks every other client). The benchmarks use it to find the longest script call; an
 * operator gets the same with {@code redis-cli SLOWLOG GET}.
 */
public final class SlowLog {
    /** One logged command: how long it ran (µs) and its first words (the command, then its arguments). */
    public record Entry(long micros, List<String> words) {
    }

    private final RedisServerCommands<String, String> server;
    private final String thresholdBefore;
    private final String lengthBefore;

    private SlowLog(RedisServerCommands<String, String> server) {
        this.server = server;
        this.thresholdBefore = server.configGet("slowlog-log-slower-than").get("slowlog-log-slower-than");
        this.lengthBefore = server.configGet("slowlog-max-len").get("slowlog-max-len");
    }

    /**
     * Starts logging every command that runs for {@code thresholdMicros} or longer, keeping up to
     * {@code keep} of them, from an empty log. {@link #close()} puts the server's settings back.
     */
    public static SlowLog start(RedisConnector redis, long thresholdMicros, int keep) {
        if (redis.isCluster()) {
            throw new TaskpoolException("the slow log is read from a standalone Redis only (a Cluster keeps one per node)");
        }
        SlowLog log = new SlowLog(redis.sync());
        log.server.configSet("slowlog-log-slower-than", Long.toString(thresholdMicros));
        log.server.configSet("slowlog-max-len", Integer.toString(keep));
        log.server.slowlogReset();
        return log;
    }

    /** The entries logged since {@link #start}, newest first. */
    public List<Entry> entries() {
        List<Entry> entries = new ArrayList<>();
        for (Object raw : server.slowlogGet(Integer.parseInt(server.configGet("slowlog-max-len").get("slowlog-max-len")))) {
            // Each entry: id, unix time, duration (µs), the command's words, client address, client name.
            List<?> fields = (List<?>) raw;
            List<String> words = new ArrayList<>();
            for (Object word : (List<?>) fields.get(3)) {
                words.add(String.valueOf(word));
            }
            entries.add(new Entry(((Number) fields.get(2)).longValue(), words));
        }
        return entries;
    }

    /** Puts the threshold and length back as they were. */
    public void restore() {
        server.configSet("slowlog-log-slower-than", thresholdBefore);
        server.configSet("slowlog-max-len", lengthBefore);
    }
}
