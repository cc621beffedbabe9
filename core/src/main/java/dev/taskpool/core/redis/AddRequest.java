package dev.taskpool.core.redis;

import java.time.Instant;
import java.util.List;

/**
 * One add as Redis sees it: the tasks (their ids already chosen or left to the counter) under one
 * request id. Redis remembers what a request id did for a while, so sending the same request
 * again never adds twice: it returns the ids of the first time, or applies the request once if
 * it never arrived. A batch of more than {@link #CHUNK} tasks goes as chunks of that many, each
 * with its own request id ({@code <requestId>.<chunk>}), atomic and idempotent on its own.
 *
 * @param task        the task kind
 * @param requestId   what makes the request idempotent; kept by Redis under {@code taskpool:{T}:req:<id>}
 * @param tasks       the tasks, in order
 * @param settled     the ids of the first tasks, known to be added already (whole chunks); empty for a new request
 * @param retryBefore until when (epoch ms, the caller's clock) the first unsettled chunk may be sent
 *                    again; past that Redis may have forgotten it, and only reading the tasks can tell
 *                    whether it was applied
 * @param dueAt       when its tasks may start (epoch ms, Redis' clock), fixed when the request is made so
 *                    that a re-send keeps it; 0 (or a time already past when Redis applies it): at once
 * @param key         the unique key of its one task (null: none; see {@code AddOptions.key})
 * @param priority    its tasks' priority, 0 (the default) to 3
 */
public record AddRequest(String task, String requestId, List<NewTask> tasks, List<Long> settled,
                         long retryBefore, long dueAt, String key, int priority) {
    /** The most tasks one script call adds: it blocks Redis for about 25 µs per task. */
    public static final int CHUNK = 1000;

    public AddRequest {
        tasks = List.copyOf(tasks);
        settled = List.copyOf(settled);
        if (settled.size() > tasks.size() || (settled.size() % CHUNK != 0 && settled.size() != tasks.size())) {
            throw new IllegalArgumentException("settled ids must cover whole chunks of " + CHUNK + " tasks, got "
                    + settled.size() + " of " + tasks.size());
        }
        if (dueAt < 0) {
            throw new IllegalArgumentException("dueAt must be an epoch time in ms (0: at once), got " + dueAt);
        }
        if (key != null && tasks.size() > 1) {
            throw new IllegalArgumentException("a unique key names one task, but the add holds " + tasks.size()
                    + " tasks: add them one by one, each with its own key");
        }
        if (priority < 0 || priority > AddOptions.MAX_PRIORITY) {
            throw new IllegalArgumentException("priority must be from 0 to " + AddOptions.MAX_PRIORITY + ", got " + priority);
        }
    }

    /** A request with no unique key, at the default priority. */
    public AddRequest(String task, String requestId, List<NewTask> tasks, List<Long> settled, long retryBefore, long dueAt) {
        this(task, requestId, tasks, settled, retryBefore, dueAt, null, 0);
    }

    /** A request whose tasks may start at once. */
    public AddRequest(String task, String requestId, List<NewTask> tasks, List<Long> settled, long retryBefore) {
        this(task, requestId, tasks, settled, retryBefore, 0);
    }

    /** A request none of whose tasks is known to be added. */
    public AddRequest(String task, String requestId, List<NewTask> tasks, long retryBefore) {
        this(task, requestId, tasks, List.of(), retryBefore, 0);
    }

    /** This request with {@code settled} ids known to be added, sendable until {@code retryBefore}. */
    public AddRequest settledUpTo(List<Long> settled, long retryBefore) {
        return new AddRequest(task, requestId, tasks, settled, retryBefore, dueAt, key, priority);
    }

    /** {@link #retryBefore()} as an instant. */
    public Instant retryDeadline() {
        return Instant.ofEpochMilli(retryBefore);
    }

    /** The request id of the chunk that starts at task {@code from}: the request's own for a single chunk. */
    public String chunkRequestId(int from) {
        return tasks.size() <= CHUNK ? requestId : requestId + "." + from / CHUNK;
    }

    /** "a task to T" or "N tasks to T", for messages. */
    public String describe() {
        return (tasks.size() == 1 ? "a task" : tasks.size() + " tasks") + " to " + task;
    }
}
