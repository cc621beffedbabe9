package dev.taskpool.core.lua;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskIds;
import java.util.List;

/**
 * Every Redis key and channel name taskpool uses comes from here. All keys of task {@code T}
 * start with {@code taskpool:{T}:}; the braces are a Redis Cluster hash tag, so one task's keys
 * share a slot and each script touches one slot only.
 *
 * <p>A kind with {@code partitions} (see {@link KindLayout}) has its tasks in several such key
 * sets: partition 0 is {@code taskpool:{T}:} as for any kind, partition {@code k} ≥ 1 is
 * {@code taskpool:{T~k}:} or {@code taskpool:{T~k.s}:}, where the salt {@code s} picks a slot on
 * another master. The text between the braces is the partition's name; {@link #of} takes a kind
 * id or a partition name, and {@link #task()} is always the kind.
 */
public final class Keys {
    public static final String ROOT = "taskpool:";
    /** Set of the task ids that runtimes have published (for listings; single key, no tag needed). */
    public static final String TASK_REGISTRY = ROOT + "tasks";

    /**
     * Hash: schedule id -> its definition (JSON: name, cron, timezone, task or process, args, missed,
     * overlap, source, by, updated_at), as the runtime that loaded it or a client last wrote it.
     * The registry that {@code taskpool schedules} lists without an app directory.
     */
    public static final String SCHEDULE_REGISTRY = ROOT + "schedules";

    /** Sorted set: worker ids, scored by when each was last seen (epoch ms). */
    public static final String WORKERS = ROOT + "workers";

    /** Between a kind id and a partition's number in a partition name ({@code mail.send~2}); no kind id holds it. */
    public static final char PARTITION_MARK = '~';

    private final String task;
    private final String partition;
    private final String base;

    private Keys(String task, String partition) {
        this.task = task;
        this.partition = partition;
        this.base = ROOT + "{" + partition + "}:";
    }

    /** String: one worker's presence record (JSON), expiring unless its heartbeat renews it. */
    public static String worker(String workerId) {
        return ROOT + "worker:" + workerId;
    }

    /**
     * Hash: the state of a schedule that runs a process (next_fire_at, last_fire_at, stopped, ...).
     * One key, touched alone, so it needs no hash tag. A task schedule's state is {@link #schedule}.
     */
    public static String processSchedule(String scheduleId) {
        return ROOT + "schedule:" + TaskIds.requireValid(scheduleId);
    }

    /**
     * Pattern matching the event channel of every task of every kind (what operators' views follow
     * outside a Cluster; in one, {@link #kindEvents()} of each kind).
     */
    public static String allEventsPattern() {
        return ROOT + "{*}:events:*";
    }

    /** Pattern matching the control channel of every kind. */
    public static String allControlPattern() {
        return ROOT + "{*}:control";
    }

    /**
     * The kind a channel of {@link #allEventsPattern()} or {@link #allControlPattern()} belongs to
     * (a partition's channel: its kind); null if none.
     */
    public static String kindOfChannel(String channel) {
        int open = channel.indexOf('{');
        int close = channel.indexOf("}:", open + 1);
        if (!channel.startsWith(ROOT) || open != ROOT.length() || close <= open) {
            return null;
        }
        String name = channel.substring(open + 1, close);
        int mark = name.indexOf(PARTITION_MARK);
        return mark < 0 ? name : name.substring(0, mark);
    }

    /**
     * The keys of kind {@code name}, or of a partition when {@code name} is a partition's name
     * ({@code <kind>~<k>} or {@code <kind>~<k>.<salt>}, as {@link #partitionName} makes it).
     */
    public static Keys of(String name) {
        int mark = name == null ? -1 : name.indexOf(PARTITION_MARK);
        if (mark < 0) {
            return new Keys(TaskIds.requireValid(name), name);
        }
        String kind = TaskIds.requireValid(name.substring(0, mark));
        if (!validPartitionSuffix(name, mark + 1)) {
            throw new TaskpoolException("invalid partition name '" + name + "': expected <kind>~<number> or"
                    + " <kind>~<number>.<number>");
        }
        return new Keys(kind, name);
    }

    /**
     * The name of partition {@code k} of {@code kind} with {@code salt} (0: none): the kind itself
     * for partition 0, {@code <kind>~<k>} or {@code <kind>~<k>.<salt>} for the others.
     */
    public static String partitionName(String kind, int k, int salt) {
        TaskIds.requireValid(kind);
        if (k < 0 || salt < 0) {
            throw new IllegalArgumentException("partition " + k + " and salt " + salt + " must not be negative");
        }
        if (k == 0) {
            return kind;
        }
        return kind + PARTITION_MARK + k + (salt > 0 ? "." + salt : "");
    }

    /** The partition number a partition name carries: 0 for a kind id. */
    public static int partitionNumber(String name) {
        int mark = name.indexOf(PARTITION_MARK);
        if (mark < 0) {
            return 0;
        }
        int dot = name.indexOf('.', mark + 1);
        return Integer.parseInt(name.substring(mark + 1, dot < 0 ? name.length() : dot));
    }

    private static boolean validPartitionSuffix(String name, int from) {
        int dot = name.indexOf('.', from);
        return digits(name, from, dot < 0 ? name.length() : dot) && (dot < 0 || digits(name, dot + 1, name.length()));
    }

    private static boolean digits(String text, int from, int to) {
        if (to - from < 1 || to - from > 9 || (text.charAt(from) == '0' && to - from > 1)) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** The kind these keys belong to (for a partition: its kind, not the partition's name). */
    public String task() {
        return task;
    }

    /**
     * The name between the braces: the kind for an unpartitioned kind and partition 0, the
     * partition's name otherwise. What {@link #of} takes back, and what the worker and the stores
     * pass around for a partition.
     */
    public String partition() {
        return partition;
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

    /**
     * List: ids of the ready tasks of priority {@code priority} (1 to 3; higher first), beside
     * {@link #waiting()}, which holds priority 0, the default. Scripts name these by appending
     * {@code ":<priority>"} to {@link #waiting()}.
     */
    public String waiting(int priority) {
        if (priority < 0 || priority > 3) {
            throw new IllegalArgumentException("priority must be from 0 to 3, got " + priority);
        }
        return priority == 0 ? waiting() : waiting() + ":" + priority;
    }

    /**
     * Hash: the kind's flow controls as published ({@code max_running}, {@code rate_limit},
     * {@code rate_per} in ms) and their state ({@code held_until}, {@code held_reason},
     * {@code priorities}, {@code prio_turn}). Absent for a kind that uses none, so that its fetches
     * read nothing more.
     */
    public String flow() {
        return base + "flow";
    }

    /**
     * Sorted set: the starts within the kind's rate window, {@code "<id>:<lease_seq>"} scored by
     * the start time (epoch ms, Redis' clock); the fetch trims what left the window.
     */
    public String rate() {
        return base + "rate";
    }

    /**
     * String: the id of the task that holds unique key {@code key} (an add option, or
     * {@code "args:<sha1 of the args JSON>"} for a kind unique by its arguments).
     */
    public String unique(String key) {
        return uniquePrefix() + key;
    }

    /** The prefix of the unique keys: {@link #unique} without the key, for scripts to append keys to. */
    public String uniquePrefix() {
        return base + "unique:";
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

    /**
     * Hash: the state of a schedule that adds tasks of this kind (next_fire_at, last_fire_at,
     * last_task, stopped, last_error, ...). In the kind's slot, so that one script moves the next
     * fire time and adds the task.
     */
    public String schedule(String scheduleId) {
        return base + "schedule:" + TaskIds.requireValid(scheduleId);
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

    /**
     * Pub/sub channel, in a Redis Cluster only: every task event of this kind, published there as
     * well as on the task's own channel ({@link #events(long)}) with sharded pub/sub (SPUBLISH),
     * when someone subscribes to it. Sharded pub/sub has no patterns: this is what operators' views
     * ({@code taskpool watch}, the dashboard) and {@code subscribeAll} follow in a Cluster, where
     * outside one they use {@link #eventsPattern()}. In the kind's slot, like all its keys; it
     * does not match {@link #eventsPattern()} (no {@code :<id>}).
     */
    public String kindEvents() {
        return base + "events";
    }

    /** Pub/sub channel: every transition of one task, one JSON message each. */
    public String events(long id) {
        return eventsPrefix() + id;
    }

    /** Pattern matching the event channels of every task of this kind. */
    public String eventsPattern() {
        return eventsPrefix() + "*";
    }

    /**
     * Pattern matching the event channels of every task in the kind's partitions 1 and up
     * ({@code taskpool:{T~*}:events:*}, those made later too; no kind id holds the mark, so it
     * matches no other kind's). With {@link #eventsPattern()} of partition 0 it covers the kind.
     */
    public String partitionsEventsPattern() {
        return ROOT + "{" + task + PARTITION_MARK + "*}:events:*";
    }

    /** Pattern matching every key of this kind, or of this partition (for SCAN). */
    public String keysPattern() {
        return base + "*";
    }
}
