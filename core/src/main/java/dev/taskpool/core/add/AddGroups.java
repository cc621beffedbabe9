package dev.taskpool.core.add;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.NewTask;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Group commit of adds, per task kind: at most one enqueue call of a kind is out at a time. An
 * add that comes while one is out waits here; when that call answers, every add waiting goes as
 * one call (up to {@link #MOST_TASKS} tasks and {@link #MOST_BYTES} of arguments), each add still
 * its own request in it, with its own request id and its own reply (see {@code enqueue-10.lua}).
 * So a lone caller's add goes at once, and many concurrent callers share round trips and script
 * calls instead of queueing one call each on the connection.
 *
 * <p>Only an add's first send goes through here; a re-send (no answer, a transient refusal, no
 * replica acknowledging) goes on its own from {@link AddSender}'s loop, under the same request id,
 * so a re-send stays idempotent whatever shared the first call. One call only ever carries adds
 * of one kind, whose keys share one hash tag: in a Cluster, one slot.
 *
 * <p>How long an add waits here: until the call out answers, which Lettuce's command timeout
 * bounds, and never longer than {@code maxQueueWait} in all: when Redis is slow and the queue
 * deep, an add that has waited that long fails here and its own loop sends it alone (same request
 * id). An add whose caller gave up waiting (its future cancelled) is dropped from the queue. Two
 * adds with the same request id (two retries of one request) never share a call: the later one
 * waits for the next.
 *
 * <p>A call whose reply is already there when it is sent (a send refused at once) hands over to
 * the next group in a loop, not by recursion, so a long queue meeting a closed connection cannot
 * exhaust the stack; every add of a call is answered whatever goes wrong in handing over.
 */
final class AddGroups {
    /** The most tasks one call carries: as for one chunk of a batch, it blocks Redis about 25 µs per task. */
    static final int MOST_TASKS = AddRequest.CHUNK;
    /** The most bytes of arguments (JSON) one call carries, beyond its first add. */
    static final long MOST_BYTES = 1 << 20;

    /** What one add got: the route its call took (to wait for a replica on it) and its own reply. */
    record Answer(ReplicationFence.Route route, List<Object> reply) {
    }

    /** Sends one call of the enqueue script for {@code adds} of {@code task}, in that order. */
    interface Sender {
        Sent send(String task, List<Waiting> adds);
    }

    /** A call on its way: its route, and its reply (one element per add). */
    record Sent(ReplicationFence.Route route, CompletableFuture<List<Object>> reply) {
    }

    /**
     * An add waiting for its call: its request (one chunk), its time, its arguments' size, when it
     * was queued (nanoTime), and its answer to complete.
     */
    record Waiting(AddRequest request, long now, long bytes, long queuedAt, CompletableFuture<Answer> answer) {
    }

    /** One kind's queue, and whether a call of that kind is out. */
    private static final class Lane {
        final String task;
        final ArrayDeque<Waiting> queue = new ArrayDeque<>();
        boolean out;

        Lane(String task) {
            this.task = task;
        }
    }

    private final Sender sender;
    private final long maxQueueWaitNanos;
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();

    /** @param maxQueueWait the longest an add waits here for a shared call before it is sent alone */
    AddGroups(Sender sender, Duration maxQueueWait) {
        this.sender = sender;
        this.maxQueueWaitNanos = maxQueueWait.toNanos();
    }

    /**
     * Sends {@code request} (one chunk at most) now, or with the next call of its kind when one is
     * out. Completes with its own reply, or fails with what failed the whole call (a dropped
     * connection, a timeout, an error reply such as BUSY or NOSCRIPT handling gone wrong), or with
     * a {@link TaskpoolException} when it waited longer than the queue allows.
     * Cancelling the future before its call goes drops the add from the queue.
     */
    CompletableFuture<Answer> submit(AddRequest request, long now) {
        if (request.tasks().size() > MOST_TASKS) {
            throw new IllegalArgumentException("a grouped add carries at most " + MOST_TASKS + " tasks, got "
                    + request.tasks().size());
        }
        long bytes = 0;
        for (NewTask task : request.tasks()) {
            bytes += task.argsJson().length();
        }
        Waiting add = new Waiting(request, now, bytes, System.nanoTime(), new CompletableFuture<>());
        Lane lane = lanes.computeIfAbsent(request.task(), Lane::new);
        synchronized (lane) {
            if (lane.out) {
                lane.queue.add(add);
                return add.answer();
            }
            lane.out = true;
        }
        dispatch(lane, List.of(add));
        return add.answer();
    }

    /** Sends {@code group}, then each group that follows while the replies are already there. */
    private void dispatch(Lane lane, List<Waiting> group) {
        while (group != null) {
            Sent sent;
            try {
                sent = sender.send(lane.task, group);
            } catch (Throwable e) {
                // Not sent (e.g. the connection for adds that wait for a replica cannot be made on
                // this thread): each add's own loop sends it again.
                List<Waiting> next = take(lane);
                group.forEach(add -> add.answer().completeExceptionally(e));
                group = next;
                continue;
            }
            CompletableFuture<List<Object>> reply = sent.reply();
            if (reply.isDone()) {
                List<Waiting> next = take(lane);
                deliver(group, sent, reply);
                group = next;
                continue;
            }
            List<Waiting> sentGroup = group;
            reply.whenComplete((answers, error) -> {
                // The next group goes out first: the adds waiting need not wait for these answers to be handed over.
                List<Waiting> next = take(lane);
                try {
                    if (next != null) {
                        dispatch(lane, next);
                    }
                } finally {
                    deliver(sentGroup, sent, reply);
                }
            });
            return;
        }
    }

    /** Completes each add of {@code group} with its own part of the (completed) {@code reply}. */
    private static void deliver(List<Waiting> group, Sent sent, CompletableFuture<List<Object>> reply) {
        List<Object> answers = null;
        Throwable error = null;
        try {
            answers = reply.join();
        } catch (CompletionException e) {
            error = e.getCause() != null ? e.getCause() : e;
        } catch (Throwable e) {
            error = e;
        }
        for (int i = 0; i < group.size(); i++) {
            CompletableFuture<Answer> answer = group.get(i).answer();
            try {
                if (error != null) {
                    answer.completeExceptionally(error);
                } else if (answers.size() != group.size() || !(answers.get(i) instanceof List<?> own)) {
                    answer.completeExceptionally(new IllegalStateException("the enqueue script answered " + answers.size()
                            + " replies to " + group.size() + " requests: " + answers));
                } else {
                    @SuppressWarnings("unchecked")
                    List<Object> ownReply = (List<Object>) own;
                    answer.complete(new Answer(sent.route(), ownReply));
                }
            } catch (Throwable e) {
                answer.completeExceptionally(e);
            }
        }
    }

    /**
     * The next group of {@code lane} (null, marking the lane idle, when nothing waits): adds in
     * arrival order up to the size limits, skipping an add whose request id the group has already,
     * dropping adds whose caller gave up, and failing those that waited past the queue's limit.
     */
    private List<Waiting> take(Lane lane) {
        List<Waiting> group = new ArrayList<>();
        List<Waiting> late = new ArrayList<>();
        synchronized (lane) {
            int tasks = 0;
            long bytes = 0;
            Set<String> requestIds = new HashSet<>();
            long now = System.nanoTime();
            for (Iterator<Waiting> queued = lane.queue.iterator(); queued.hasNext(); ) {
                Waiting add = queued.next();
                if (add.answer().isDone()) {
                    queued.remove();   // its caller gave up waiting and sends it on its own
                    continue;
                }
                if (now - add.queuedAt() > maxQueueWaitNanos) {
                    queued.remove();
                    late.add(add);
                    continue;
                }
                int size = add.request().tasks().size();
                if (!group.isEmpty() && (tasks + size > MOST_TASKS || bytes + add.bytes() > MOST_BYTES)) {
                    break;
                }
                if (!requestIds.add(add.request().chunkRequestId(0))) {
                    continue;   // the same request twice in one call would be refused as a whole: next call
                }
                queued.remove();
                group.add(add);
                tasks += size;
                bytes += add.bytes();
            }
            if (group.isEmpty()) {
                lane.out = false;
            }
        }
        for (Waiting add : late) {
            add.answer().completeExceptionally(new TaskpoolException("the add of " + add.request().describe()
                    + " waited over " + maxQueueWaitNanos / 1_000_000 + " ms behind earlier adds of its task for a"
                    + " shared call; it is sent on its own"));
        }
        return group.isEmpty() ? null : group;
    }
}
