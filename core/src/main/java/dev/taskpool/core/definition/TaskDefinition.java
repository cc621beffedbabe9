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
 * @param partitions   how many hash tags the kind's tasks are spread over (1: one, as any kind;
 *                     see {@link dev.taskpool.core.lua.KindLayout})
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
        FlowControl flow,
        int partitions) {

    public static final Duration DEFAULT_KEEP = Duration.ofDays(1);
    /** The most partitions a kind may have: a task id's last two digits name its partition. */
    public static final int MAX_PARTITIONS = 100;

    public TaskDefinition {
        if (partitions < 1 || partitions > MAX_PARTITIONS) {
            throw new IllegalArgumentException("partitions must be from 1 to " + MAX_PARTITIONS + ", got " + partitions);
        }
        if (backoff == null) {
            backoff = Backoff.FIXED;
        }
        if (flow == null) {
            flow = FlowControl.NONE;
        }
    }

    /** An unpartitioned definition. */
    public TaskDefinition(String id, String source, String name, int workerNums, int attempts, Duration attemptAfter,
                          Duration timeout, int size, String process, TaskEvents events, Duration keep, Backoff backoff,
                          FlowControl flow) {
        this(id, source, name, workerNums, attempts, attemptAfter, timeout, size, process, events, keep, backoff, flow, 1);
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

    /**
     * This definition as partition {@code k} of {@code count} holds it: {@code size},
     * {@code max_running} and the rate's {@code limit} are divided among all the kind's
     * partitions (partition {@code k} holds {@link #share} of each, at least 1, so that what a
     * partition holds can always run; {@code count} exceeds {@link #partitions} while partitions
     * that take no adds any more are still served).
     */
    public TaskDefinition partitionShare(int k, int count) {
        if (count == 1) {
            return this;
        }
        FlowControl shared = new FlowControl(flow.maxRunning() == 0 ? 0 : share(flow.maxRunning(), count, k),
                flow.rateLimit() == 0 ? 0 : share(flow.rateLimit(), count, k), flow.ratePer(), flow.uniqueByArgs(),
                flow.uniqueFor());
        return new TaskDefinition(id, source, name, workerNums, attempts, attemptAfter, timeout,
                share(size, count, k), process, events, keep, backoff, shared, partitions);
    }

    /** This definition with {@code workerNums} concurrent runs per worker process (a partition's share). */
    public TaskDefinition withWorkerNums(int workerNums) {
        return workerNums == this.workerNums ? this : new TaskDefinition(id, source, name, workerNums, attempts, attemptAfter,
                timeout, size, process, events, keep, backoff, flow, partitions);
    }

    /**
     * Partition {@code k}'s share of {@code total} over {@code partitions}: {@code total / partitions},
     * one more for the first {@code total % partitions}, so the shares add up to {@code total}
     * (at least 1 each: more than {@code total} in all when there are more partitions than it).
     */
    public static int share(int total, int partitions, int k) {
        return Math.max(1, total / partitions + (k < total % partitions ? 1 : 0));
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
        if (partitions > 1) {
            fields.put("partitions", Integer.toString(partitions));
        }
        events.asMap().forEach((event, handler) -> fields.put("event." + event, handler));
        return fields;
    }
}
