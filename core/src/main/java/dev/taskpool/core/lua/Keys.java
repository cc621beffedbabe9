package dev.taskpool.core.lua;

import dev.taskpool.core.definition.TaskIds;

/**
 * Every Redis key and channel name taskpool uses comes from here. All keys of task {@code T}
 * start with {@code taskpool:{T}:}; the braces are a Redis Cluster hash tag, so one task's keys
 * share a slot and each script touches one slot only.
 */
public final class Keys {
    public static final String ROOT = "taskpool:";
    /** Set of the task ids that runtimes have published (for listings; single key, no tag needed). */
    public static final String TASK_REGISTRY = ROOT + "tasks";

    /** Sorted set: worker ids, scored by when each was last seen (epoch ms). */
    public static final String WORKERS = ROOT + "workers";

    private final String task;
    private final String base;

    private Keys(String task) {
        this.task = task;
        this.base = ROOT + "{" + task + "}:";
    }

    /** String: one worker's presence record (JSON), expiring unless its heartbeat renews it. */
    public static String worker(String workerId) {
        return ROOT + "worker:" + workerId;
    }

    /** Pattern matching the event channel of every task of every kind (the dashboard's one subscription). */
    public static String allEventsPattern() {
        return ROOT + "{*}:events:*";
    }

    /** Pattern matching the control channel of every kind. */
    public static String allControlPattern() {
        return ROOT + "{*}:control";
    }

    /** The kind a channel of {@link #allEventsPattern()} or {@link #allControlPattern()} belongs to; null if none. */
    public static String kindOfChannel(String channel) {
        int open = channel.indexOf('{');
        int close = channel.indexOf("}:", open + 1);
        return channel.startsWith(ROOT) && open == ROOT.length() && close > open ? channel.substring(open + 1, close) : null;
    }

    public static Keys of(String task) {
        return new Keys(TaskIds.requireValid(task));
    }

    public String task() {
        return task;
    }

    /** Hash: the definition a runtime published ({@code size}, {@code attempts}, handlers...). */
    public String definition() {
        return base + "def";
    }

    /** String: the counter behind default ids. */
    public String sequence() {
        return base + "seq";
    }

    /** List: ids waiting to run; added on the left, taken from the right. */
    public String waiting() {
        return base + "waiting";
    }

    /** List: at most a token or two that wake a worker blocked in BLPOP. */
    public String wake() {
        return base + "wake";
    }

    /**
     * Sorted set: id of each WAITING task that may not start yet (a delayed add, a retry waiting out its
     * backoff), scored by its due time (epoch ms, Redis' clock). A fetch moves the due ones to
     * {@link #waiting()} in bounded steps.
     */
    public String delayed() {
        return base + "delayed";
    }

    /**
     * String: the due time (epoch ms) of {@link #delayed()}'s earliest task that one idle worker has
     * set its timer for, so that the other idle workers do not all wake for it; it lapses a little
     * after that time.
     */
    public String dueWatch() {
        return base + "due-watch";
    }

    /** Sorted set: id of each running task, scored by its lease deadline (epoch ms). */
    public String leases() {
        return base + "leases";
    }

    /** Hash: counters that outlive the tasks (added, succeeded, failed, retried, recovered, canceled). */
    public String stats() {
        return base + "stats";
    }

    /**
     * List: {@code "<finished_at>:<id>"} (epoch ms) of the SUCCESS tasks still retained, newest at the
     * right (appended), pruned from the left as they expire. A list, not a sorted set like {@link #failed()}: every
     * task that succeeds has an entry, and a list entry costs a few bytes where a sorted-set entry costs
     * about a hundred.
     */
    public String succeeded() {
        return base + "succeeded";
    }

    /** Sorted set: id -> finished_at (epoch ms) of the FAILURE tasks still retained, pruned as they expire. */
    public String failed() {
        return base + "failed";
    }

    /**
     * String (JSON {@code {"by":..,"at":<ms>}}): present while the kind is paused. A key of its own,
     * so that publishing a definition never resets it.
     */
    public String paused() {
        return base + "paused";
    }

    /**
     * List: ids of canceled tasks whose {@code error} handler no worker has run yet; a worker's round
     * trip pops them, so each handler runs once, on one worker.
     */
    public String errorHandlersDue() {
        return base + "error-due";
    }

    /** Pub/sub channel: kind-level control messages (paused, resumed, cancel, resubmitted), one JSON each. */
    public String control() {
        return base + "control";
    }

    /** String: the result of one add request, kept briefly so that a re-sent add is not applied twice. */
    public String request(String requestId) {
        return base + "req:" + requestId;
    }

    /** Prefix of the add request records: {@link #request} without the id, for the enqueue script to append ids to. */
    public String requestPrefix() {
        return base + "req:";
    }

    /** Hash: a worker's last fetch (its id and the task ids it took), so a re-sent fetch takes nothing more. */
    public String claim(String workerId) {
        return base + "claim:" + workerId;
    }

    /** The prefix of the task hashes; scripts append the id. */
    public String taskPrefix() {
        return base + "task:";
    }

    /** Hash: one task's record. */
    public String task(long id) {
        return taskPrefix() + id;
    }

    /** The prefix of the per-task event channels; scripts append the id. */
    public String eventsPrefix() {
        return base + "events:";
    }

    /** Pub/sub channel: every transition of one task, one JSON message each. */
    public String events(long id) {
        return eventsPrefix() + id;
    }

    /** Pattern matching the event channels of every task of this kind. */
    public String eventsPattern() {
        return eventsPrefix() + "*";
    }
}
