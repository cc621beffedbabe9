package dev.taskpool.core.add;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.connect.RedisFull;
import dev.taskpool.core.connect.RedisTimeouts;
import dev.taskpool.core.lua.EventMode;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptReply;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.redis.AddIncompleteException;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.NewTask;
import io.lettuce.core.RedisCommandExecutionException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Sends an add request (enqueue script, one call per chunk of {@link AddRequest#CHUNK} tasks)
 * until Redis gives a definite answer, so that a timeout or a dropped connection never leaves the
 * caller guessing whether the tasks were added. The first send of a request of one chunk goes
 * through {@link AddGroups}: concurrent adds of a kind share a call, each a request of its own in
 * it (own request id, own reply, own {@code size} check); re-sends go alone.
 *
 * <p>A send whose reply does not come may still be applied later (Lettuce re-sends it after a
 * reconnect; a partitioned connection delivers it when it heals). Re-sending the same request id
 * is safe because the script returns the first result while Redis remembers the id. Why a
 * re-send never outlives that memory: the sends of one chunk start within {@link #sendWindow()}
 * of its first send; Lettuce transmits a command only until its command timeout expires (it
 * drops commands that timed out instead of re-sending them after a reconnect); Redis keeps the
 * id for {@link #requestMemory()} = the window plus two command timeouts, counted from when the
 * chunk was first applied, which is after its first send. Copies stuck on one connection arrive
 * in order, so the first applies and the rest find its record.
 *
 * <p>An error reply is definite: the script ran and refused, or Redis refused to run it. After
 * earlier sends had no answer, a refusal speaks for that send only; but replies on the one
 * connection come in order, so the earlier sends were then applied (the script would have found
 * their record: it reads it before anything, even when Redis is over maxmemory) or are lost for
 * good.
 */
final class AddSender {
    private static final Duration FIRST_PAUSE = Duration.ofMillis(50);
    private static final Duration LONGEST_PAUSE = Duration.ofSeconds(1);
    /** Error replies that mean "not run, try again shortly". */
    private static final List<String> TRANSIENT_REPLIES = List.of("BUSY", "LOADING", "TRYAGAIN", "MASTERDOWN",
            "CLUSTERDOWN", "NOREPLICAS");

    private final RedisConnector redis;
    private final ScriptRunner scripts;
    private final RedisTimeouts timeouts;
    private final Duration deadline;
    private final ReplicationFence fence;
    /** {@link #sendWindow()} and {@link #requestMemory()} in ms, worked out once: Duration arithmetic goes through BigDecimal. */
    private final long sendWindowMillis;
    private final String requestMemoryMillis;
    /** How the enqueue script publishes events ({@link EventMode}). */
    private final String eventMode;
    /** The enqueue script's keys of each task kind but the request record's, built once per kind. */
    private final Map<String, KindKeys> kindKeys = new ConcurrentHashMap<>();
    /**
     * Where an asynchronous add goes on when its first send got no definite answer: the blocking
     * loop of re-sends, on one of the connection's few re-sending threads (a rare path; the usual
     * one blocks no thread).
     */
    private final AddResends resends;
    /** Kinds whose keys are kept, at most: a client adds to a few kinds; more are built per add. */
    private static final int KINDS_KEPT = 1024;

    /** One kind's keys, and the enqueue script's keys for it. */
    private record KindKeys(Keys keys, String[] scriptKeys) {
        static KindKeys of(String task) {
            Keys keys = Keys.of(task);
            return new KindKeys(keys, EnqueueCall.keys(keys));
        }
    }

    /** Concurrent first sends of one kind, grouped into shared calls. */
    private final AddGroups groups;

    /** @param deadline how long one add keeps re-sending before it reports an unknown outcome */
    AddSender(RedisConnector redis, ScriptRunner scripts, Duration deadline) {
        this(redis, scripts, deadline, redis.shared(AddResends.class, AddResends::new));
    }

    /** As above, with the re-sending threads given (tests: smaller bounds). */
    AddSender(RedisConnector redis, ScriptRunner scripts, Duration deadline, AddResends resends) {
        if (deadline.isNegative() || deadline.isZero()) {
            throw new TaskpoolException("the add deadline must be positive, got " + deadline);
        }
        this.redis = redis;
        this.scripts = scripts;
        this.resends = resends;
        this.timeouts = redis.timeouts();
        this.deadline = deadline;
        this.fence = ReplicationFence.of(redis);
        this.sendWindowMillis = sendWindow().toMillis();
        this.requestMemoryMillis = Long.toString(requestMemory().toMillis());
        this.eventMode = EventMode.of(redis);
        // An add waits behind earlier calls of its kind for at most one command timeout, then goes alone.
        this.groups = new AddGroups(this::sendCall, timeouts.addQueueWait());
    }

    private KindKeys kindKeys(String task) {
        KindKeys known = kindKeys.get(task);
        if (known != null) {
            return known;
        }
        KindKeys built = KindKeys.of(task);
        if (kindKeys.size() < KINDS_KEPT) {
            kindKeys.put(task, built);
        }
        return built;
    }

    Duration deadline() {
        return deadline;
    }

    /** How long after its creation a request may still be sent: the deadline, then time for a retry by the caller. */
    Duration sendWindow() {
        return timeouts.sendWindow(deadline);
    }

    /** How long Redis remembers a request id: the send window plus two command timeouts of margin. */
    Duration requestMemory() {
        return timeouts.requestMemory(deadline);
    }

    /** A new request of {@code tasks}, made at {@code now}: its due time is fixed here, so that every send carries the same. */
    AddRequest newRequest(String task, List<NewTask> tasks, AddOptions options, long now) {
        return new AddRequest(task, RequestIds.next(), tasks, List.of(), now + sendWindowMillis, options.dueAt(now),
                options.uniqueKey().orElse(null), options.priorityLevel());
    }

    /**
     * Sends the chunks of {@code request} not yet settled, in order, each until a definite answer
     * for at most the deadline (and the first never past the request's {@code retryBefore}).
     * Returns all the ids in order, or an empty list when the queue cannot take the batch (only
     * the first chunk checks {@code size}, for the whole batch).
     *
     * @throws AddOutcomeUnknownException when a chunk got no answer in time
     * @throws AddIncompleteException     when a chunk after the first added ones was refused
     */
    List<Long> settle(AddRequest request, long now) {
        return settle(request, now, System.nanoTime());
    }

    /** As {@link #settle(AddRequest, long)}, for a request whose first send went out at {@code started} (nanoTime). */
    private List<Long> settle(AddRequest request, long now, long started) {
        int total = request.tasks().size();
        List<Long> ids = new ArrayList<>(request.settled());
        if (ids.size() < total && request.retryBefore() <= now) {
            // Not wrapped as an incomplete add: sending this chunk again could now apply it twice.
            throw new TaskpoolException("too late to send add request " + request.requestId() + " (" + request.describe()
                    + (ids.isEmpty() ? "" : ", from task " + (ids.size() + 1)) + ") again: it could be sent until "
                    + request.retryDeadline() + "; Redis may have forgotten it by now. Read the tasks (or their events)"
                    + " to see whether it was applied before adding them again");
        }
        for (int from = ids.size(); from < total; from += AddRequest.CHUNK) {
            long chunkNow = now + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            // The first unsettled chunk may have been sent by an earlier call: its window started then.
            boolean first = from == request.settled().size();
            long retryBefore = first ? request.retryBefore() : chunkNow + sendWindowMillis;
            AddRequest rest = request.settledUpTo(ids, retryBefore);
            List<Long> added;
            try {
                added = sendChunk(rest, from, Math.min(from + AddRequest.CHUNK, total), chunkNow, first ? started : System.nanoTime());
            } catch (AddOutcomeUnknownException e) {
                throw e;
            } catch (TaskpoolException refusal) {
                if (ids.isEmpty()) {
                    throw refusal;
                }
                throw new AddIncompleteException(request.settledUpTo(ids, chunkNow + sendWindowMillis), refusal);
            }
            if (added.isEmpty()) {
                return List.of();
            }
            ids.addAll(added);
        }
        return ids;
    }

    /**
     * Sends tasks {@code from} to {@code to} (exclusive) of {@code request} until a definite answer,
     * re-sending until {@code started} (nanoTime of the first send) plus the deadline. The first
     * send of a request of one chunk goes with the adds of its kind that wait for a call (see
     * {@link AddGroups}); a re-send goes on its own.
     */
    private List<Long> sendChunk(AddRequest request, int from, int to, long now, long started) {
        long budget = Math.min(deadline.toMillis(), request.retryBefore() - now);
        Keys keys = kindKeys(request.task()).keys();
        boolean grouped = from == 0 && to == request.tasks().size() && to <= AddGroups.MOST_TASKS;
        long end = started + TimeUnit.MILLISECONDS.toNanos(budget);
        Duration pause = FIRST_PAUSE;
        int sends = 0;
        Throwable unanswered = null;
        Throwable lastError;
        while (true) {
            sends++;
            boolean inGroup = grouped && sends == 1;
            CompletableFuture<AddGroups.Answer> reply = inGroup ? groups.submit(request, now) : sendAlone(request, from, to, now);
            // A grouped add may wait for the call out before it (bounded by the command timeout) and then for its own.
            long wait = timeouts.addReplyWait(inGroup).toMillis();
            try {
                AddGroups.Answer answer = reply.get(wait, TimeUnit.MILLISECONDS);
                RedisCommandExecutionException passedOn = passedOn(answer.reply());
                if (passedOn != null) {
                    throw new ExecutionException(passedOn);
                }
                List<Long> ids = EnqueueReply.decode(request, answer.reply());
                if (ids.isEmpty() || onReplica(answer.route(), keys)) {
                    return ids;
                }
                unanswered = lastError = new TaskpoolException("no replica of the master acknowledged the add within "
                        + fence.waitMillis() + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unknown(request, sends, "the waiting thread was interrupted", e);
            } catch (TimeoutException e) {
                reply.cancel(true);
                unanswered = lastError = e;
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RedisCommandExecutionException refusal && !isTransient(refusal)) {
                    throw refused(request, refusal, unanswered != null);
                }
                if (!(cause instanceof RedisCommandExecutionException)) {
                    unanswered = cause;
                }
                lastError = cause;
            }
            long left = end - System.nanoTime();
            if (left <= 0) {
                break;
            }
            sleep(request, sends, Math.min(pause.toNanos(), left));
            pause = shortest(pause.multipliedBy(2), LONGEST_PAUSE, timeouts.longestResendPause());
        }
        if (unanswered == null) {
            throw new TaskpoolException("Redis at " + redis.describe() + " refused to add " + request.describe()
                    + " for " + budget + " ms (" + sends + " tries, last: " + RedisConnector.rootMessage(lastError)
                    + "); nothing was written", lastError);
        }
        throw unknown(request, sends, "last error: " + RedisConnector.rootMessage(lastError), lastError);
    }

    /** One call of the enqueue script for {@code adds} (each one chunk, all of {@code task}), in order. */
    private AddGroups.Sent sendCall(String task, List<AddGroups.Waiting> adds) {
        KindKeys kind = kindKeys(task);
        int tasks = 0;
        for (AddGroups.Waiting add : adds) {
            tasks += add.request().tasks().size();
        }
        EnqueueCall call = new EnqueueCall(task, kind.keys(), requestMemoryMillis, tasks, eventMode);
        for (AddGroups.Waiting add : adds) {
            AddRequest request = add.request();
            call.request(request.chunkRequestId(0), add.now(), request, request.tasks().size(), request.tasks());
        }
        ReplicationFence.Route route = fence.route(kind.keys().definition(), scripts);
        return new AddGroups.Sent(route, route.scripts().run(LuaScript.ENQUEUE, kind.scriptKeys(), call.args()));
    }

    /** Tasks {@code from} to {@code to} of {@code request} as a call of their own (a re-send, or a chunk of a batch). */
    private CompletableFuture<AddGroups.Answer> sendAlone(AddRequest request, int from, int to, long now) {
        KindKeys kind = kindKeys(request.task());
        // The first chunk admits the whole batch against `size`; the later ones were admitted with it.
        EnqueueCall call = new EnqueueCall(kind.keys().task(), kind.keys(), requestMemoryMillis, to - from, eventMode)
                .request(request.chunkRequestId(from), now, request, from == 0 ? request.tasks().size() : 0,
                        request.tasks().subList(from, to));
        ReplicationFence.Route route = fence.route(kind.keys().definition(), scripts);
        return route.scripts().run(LuaScript.ENQUEUE, kind.scriptKeys(), call.args())
                .thenApply(reply -> {
                    @SuppressWarnings("unchecked")
                    List<Object> own = (List<Object>) reply.getFirst();
                    return new AddGroups.Answer(route, own);
                });
    }

    /**
     * The error Redis gave for this add's first write or a read (the script passes it on as
     * {@code {REDIS_REFUSED, error}}), as if Redis had answered the call with it: so OOM and a transient
     * NOREPLICAS are told apart as for any error reply. Null for any other reply.
     */
    private static RedisCommandExecutionException passedOn(List<Object> reply) {
        if (reply.size() == 2 && ScriptReply.REDIS_REFUSED.is(reply)) {
            return new RedisCommandExecutionException(String.valueOf(reply.get(1)));
        }
        return null;
    }

    /**
     * Whether the add just answered is on a replica (or there is none to wait for); a failed WAIT
     * counts as no, and the add is sent again like one that got no answer.
     */
    private boolean onReplica(ReplicationFence.Route route, Keys keys) throws InterruptedException {
        try {
            long replyWait = timeouts.fenceReplyWait(Duration.ofMillis(fence.waitMillis())).toMillis();
            return fence.afterWrites(route, keys.definition()).get(replyWait, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private static Duration shortest(Duration... durations) {
        Duration shortest = durations[0];
        for (Duration duration : durations) {
            shortest = duration.compareTo(shortest) < 0 ? duration : shortest;
        }
        return shortest;
    }

    /**
     * As {@link #settle}, without holding a thread while Redis answers: the first send's reply
     * completes the future on Lettuce's thread (its own command timeout, which every connection
     * has, ends a send that gets no reply). Anything but a definite answer (no reply, a dropped
     * connection, a transient refusal, no replica acknowledging) hands the request over to the
     * blocking loop of re-sends on a re-sending thread ({@link AddResends}), with what is left of
     * the deadline; so the outcome is the same as a blocking add's, only the waiting differs. A batch of more than one
     * chunk, or a request some of whose chunks are settled, takes the blocking loop from the start.
     */
    CompletableFuture<List<Long>> settleAsync(AddRequest request, long now) {
        long started = System.nanoTime();
        if (request.tasks().size() > AddRequest.CHUNK || !request.settled().isEmpty() || request.retryBefore() <= now) {
            return resend(request, now, started, false);
        }
        KindKeys kind = kindKeys(request.task());
        CompletableFuture<AddGroups.Answer> reply;
        try {
            reply = groups.submit(request, now);
        } catch (RuntimeException e) {
            return resend(request, now, started, false);
        }
        return reply.handle((answer, error) -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (error == null) {
                cause = passedOn(answer.reply());
            }
            if (cause == null) {
                List<Long> ids;
                try {
                    ids = EnqueueReply.decode(request, answer.reply());
                } catch (RuntimeException refusal) {
                    return CompletableFuture.<List<Long>>failedFuture(refusal);
                }
                if (ids.isEmpty() || !answer.route().waits()) {
                    return CompletableFuture.completedFuture(ids);
                }
                return fence.afterWrites(answer.route(), kind.keys().definition())
                        .handle((acked, waitError) -> Boolean.TRUE.equals(acked) && waitError == null
                                ? CompletableFuture.completedFuture(ids) : resend(request, now, started, true))
                        .thenCompose(Function.identity());
            }
            if (cause instanceof RedisCommandExecutionException refusal && !isTransient(refusal)) {
                return CompletableFuture.<List<Long>>failedFuture(refused(request, refusal, false));
            }
            return resend(request, now, started, true);
        }).thenCompose(Function.identity());
    }

    /**
     * The blocking loop of re-sends for {@code request} (first sent at {@code started} when
     * {@code sent}), on a re-sending thread. One that waited for a thread past the add deadline
     * sends nothing more: it fails as unknown, as its own loop would have at the deadline. When
     * no thread can be waited for, it fails at once: as unknown when its first send went out,
     * else saying that nothing was written.
     */
    private CompletableFuture<List<Long>> resend(AddRequest request, long now, long started, boolean sent) {
        return resends.submit(() -> {
            long waited = System.nanoTime() - started;
            if (sent && waited > deadline.toNanos()) {
                throw unknown(request, 1, "it waited " + TimeUnit.NANOSECONDS.toMillis(waited) + " ms for one of the"
                        + " re-sending threads, all busy with other adds Redis did not answer", null);
            }
            return settle(request, now, started);
        }, why -> sent ? unknown(request, "its first send got no definite answer from Redis at " + redis.describe()
                + ", and it cannot be sent again now: " + why, null)
                : new TaskpoolException("the add of " + request.describe() + " to Redis at " + redis.describe()
                + " was not sent: " + why + "; nothing was written"));
    }

    private static boolean isTransient(RedisCommandExecutionException refusal) {
        String message = String.valueOf(refusal.getMessage());
        return TRANSIENT_REPLIES.stream().anyMatch(message::startsWith);
    }

    /** An error reply: the script refused, or Redis refused to run it. */
    private TaskpoolException refused(AddRequest request, RedisCommandExecutionException refusal, boolean earlierUnanswered) {
        String message = String.valueOf(refusal.getMessage());
        if (RedisFull.refused(refusal)) {
            return RedisFull.refusal(redis.describe(), "the add of " + request.describe(), refusal);
        }
        String unwritten = earlierUnanswered ? "" : " (nothing was written)";
        return AclRefusal.explain(refusal, redis.user(), "add " + request.describe())
                .map(line -> new TaskpoolException(line, refusal))
                .orElseGet(() -> new TaskpoolException("Redis at " + redis.describe() + " refused to add " + request.describe()
                        + ": " + message + unwritten, refusal));
    }

    private AddOutcomeUnknownException unknown(AddRequest request, int sends, String why, Throwable cause) {
        return unknown(request, "Redis at " + redis.describe() + " did not answer " + (sends == 1 ? "it" : sends + " sends of it")
                + " within the add deadline of " + deadline.toMillis() + " ms (" + why + ")", cause);
    }

    /** An unknown outcome: {@code whatHappened} to the add, then how to settle it. */
    private AddOutcomeUnknownException unknown(AddRequest request, String whatHappened, Throwable cause) {
        String task = Keys.of(request.task()).task();
        String done = request.settled().isEmpty() ? "" : " The first " + request.settled().size() + " were added (first id "
                + request.settled().getFirst() + ", last " + request.settled().getLast() + "); the outcome of the next "
                + Math.min(AddRequest.CHUNK, request.tasks().size() - request.settled().size()) + " is unknown.";
        return new AddOutcomeUnknownException(request, "the outcome of adding " + request.describe() + " is unknown: "
                + whatHappened + "." + done + " It may or may"
                + " not have been applied; do not add it again as a new add. Send it again with request id "
                + request.requestId()
                + " before " + Instant.ofEpochMilli(request.retryBefore()) + " (TaskpoolClient.retryAdd(e.request()), or"
                + " Process(\"tasks." + task + ".retryAdd\", \"" + request.requestId() + "\") in a script of the same"
                + " runtime): it returns the ids if it was applied and adds once if it was not", cause);
    }

    private void sleep(AddRequest request, int sends, long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unknown(request, sends, "the waiting thread was interrupted", e);
        }
    }
}
