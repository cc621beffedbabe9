package dev.taskpool.core.definition;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One task of an app, as its definition file declares it (the seed's table, DESIGN §1).
 *
 * @param id           the task id, from the file's path ({@code tasks/mail/send.yao} is {@code mail.send})
 * @param source       the file it was loaded from, for error messages
 * @param workerNums   concurrent runs of this task per worker process
 * @param attempts     retries after the first failed run ({@code 3} means at most 4 runs)
 * @param attemptAfter pause between runs
 * @param timeout      the longest one run may take, counted from its start
 * @param size         the most tasks that may wait in the queue
 * @param keep         how long a finished task stays readable
 * @param backoff      how the wait between runs grows ({@code attempt_after} is its base)
 * @param flow         what holds the kind back across all workers (cap, rate, unique adds)
 */
public record TaskDefinition(
        String id,
        String source,
        String name,
        int workerNums,
        int attempts,
        Duration attemptAfter,
        Duration timeout,
        int size,
        String process,
        TaskEvents events,
        Duration keep,
        Backoff backoff,
        FlowControl flow) {

    public static final Duration DEFAULT_KEEP = Duration.ofDays(1);

    public TaskDefinition {
        if (backoff == null) {
            backoff = Backoff.FIXED;
        }
        if (flow == null) {
            flow = FlowControl.NONE;
        }
    }

    /** A definition with no flow control. */
    public TaskDefinition(String id, String source, String name, int workerNums, int attempts, Duration attemptAfter,
                          Duration timeout, int size, String process, TaskEvents events, Duration keep, Backoff backoff) {
        this(id, source, name, workerNums, attempts, attemptAfter, timeout, size, process, events, keep, backoff,
                FlowControl.NONE);
    }

    /** A definition with the fixed backoff ({@code attempt_after} before every retry). */
    public TaskDefinition(String id, String source, String name, int workerNums, int attempts, Duration attemptAfter,
                          Duration timeout, int size, String process, TaskEvents events, Duration keep) {
        this(id, source, name, workerNums, attempts, attemptAfter, timeout, size, process, events, keep, Backoff.FIXED,
                FlowControl.NONE);
    }

    /**
     * The wait before the {@code retry}-th retry (1: after the first failed run) by this
     * definition's backoff; {@code random} in {@code [0, 1)} picks the jitter, if any.
     */
    public Duration retryWait(int retry, double random) {
        return Duration.ofMillis(backoff.waitMillis(retry, attemptAfter.toMillis(), random));
    }

    /** The most runs a task of this kind gets: the first plus {@link #attempts} retries. */
    public int maxRuns() {
        return attempts + 1;
    }

    /**
     * The fields published to Redis ({@code taskpool:{id}:def}), readable with redis-cli and
     * enough for a thin client and the scripts: {@code size} bounds the queue, {@code attempts}
     * and {@code keep} serve the recoverer.
     */
    public Map<String, String> toPublishedFields() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("id", id);
        fields.put("name", name);
        fields.put("worker_nums", Integer.toString(workerNums));
        fields.put("attempts", Integer.toString(attempts));
        fields.put("attempt_after", Long.toString(attemptAfter.toMillis()));
        fields.put("timeout", Long.toString(timeout.toSeconds()));
        fields.put("size", Integer.toString(size));
        fields.put("keep", Long.toString(keep.toSeconds()));
        fields.put("process", process);
        if (backoff.type() != Backoff.Type.FIXED) {
            // (only when not the default: a definition that names none publishes what it did before)
            fields.put("backoff", backoff.publishedText());
        }
        flow.publishInto(fields);
        events.asMap().forEach((event, handler) -> fields.put("event." + event, handler));
        return fields;
    }
}
