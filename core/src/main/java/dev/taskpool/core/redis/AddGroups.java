package dev.taskpool.core.redis;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Group commit of adds, per task kind: at most one enqueue call of a kind is out at a time. An
 * add that comes while one is out waits here; when that call answers, every add waiting goes as
 * one call (up to {@link #MOST_TASKS} tasks and {@link #MOST_BYTES} of arguments), each add still
 * its own request in it, with its own request id and its own reply (see {@code enqueue-7.lua}).
 * So a lone caller's add goes at once, and many concurrent callers share round trips and script
 * calls instead of queueing one call each on the connection.
 *
 * <p>Only an add's first send goes through here; a re-send (no answer, a transient refusal, no
 * replica acknowledging) goes on its own from {@link AddSender}'s loop, under the same request id,
 * so a re-send stays idempotent whatever shared the first call. One call only ever carries adds
 * of one kind, whose keys share one hash tag: in a Cluster, one slot.
 *
 * <p>How long an add waits here: until the call out answers, which Lettuce's command timeout
 * bounds; an add whose caller gave up waiting (its future cancelled) is dropped from the queue.
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

    /** An add waiting for its call: its request (one chunk), its time, and its answer to complete. */
    record Waiting(AddRequest request, long now, long bytes, CompletableFuture<Answer> answer) {
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
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();

    AddGroups(Sender sender) {
        this.sender = sender;
    }

    /**
     * Sends {@code request} (one chunk at most) now, or with the next call of its kind when one is
     * out. Completes with its own reply, or fails with what failed the whole call (a dropped
     * connection, a timeout, an error reply such as BUSY or NOSCRIPT handling gone wrong).
     * Cancelling the future before its call goes drops the add from the queue.
     */
    CompletableFuture<Answer> submit(AddRequest request, long now) {
        if (request.tasks().size() > MOST_TASKS) {
            throw new IllegalArgumentException("a grouped add carries at most " + MOST_TASKS + " tasks, got "
                    + request.tasks().size());
        }
        long bytes = 0;
        for (TaskStore.NewTask task : request.tasks()) {
            bytes += task.argsJson().length();
        }
        Waiting add = new Waiting(request, now, bytes, new CompletableFuture<>());
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

    private void dispatch(Lane lane, List<Waiting> adds) {
        Sent sent;
        try {
            sent = sender.send(lane.task, adds);
        } catch (RuntimeException e) {
            // Not sent (e.g. the connection for adds that wait for a replica cannot be made on this
            // thread): each add's own loop sends it again.
            adds.forEach(add -> add.answer().completeExceptionally(e));
            next(lane);
            return;
        }
        sent.reply().whenComplete((reply, error) -> {
            // The next group goes out first: the adds waiting need not wait for these answers to be handed over.
            next(lane);
            for (int i = 0; i < adds.size(); i++) {
                CompletableFuture<Answer> answer = adds.get(i).answer();
                if (error != null) {
                    answer.completeExceptionally(error);
                } else if (reply.size() != adds.size() || !(reply.get(i) instanceof List<?> own)) {
                    answer.completeExceptionally(new IllegalStateException("the enqueue script answered " + reply.size()
                            + " replies to " + adds.size() + " requests: " + reply));
                } else {
                    @SuppressWarnings("unchecked")
                    List<Object> ownReply = (List<Object>) own;
                    answer.complete(new Answer(sent.route(), ownReply));
                }
            }
        });
    }

    /** Sends what waits in {@code lane} as one call, or marks the lane idle when nothing does. */
    private void next(Lane lane) {
        List<Waiting> group = new ArrayList<>();
        synchronized (lane) {
            int tasks = 0;
            long bytes = 0;
            while (!lane.queue.isEmpty()) {
                Waiting add = lane.queue.peek();
                if (add.answer().isDone()) {
                    lane.queue.poll();   // its caller gave up waiting and sends it on its own
                    continue;
                }
                int size = add.request().tasks().size();
                if (!group.isEmpty() && (tasks + size > MOST_TASKS || bytes + add.bytes() > MOST_BYTES)) {
                    break;
                }
                lane.queue.poll();
                group.add(add);
                tasks += size;
                bytes += add.bytes();
            }
            if (group.isEmpty()) {
                lane.out = false;
                return;
            }
        }
        dispatch(lane, group);
    }
}
