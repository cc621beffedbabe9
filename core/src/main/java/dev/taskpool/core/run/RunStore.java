package dev.taskpool.core.run;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.RequestIds;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.lua.EventMode;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptReply;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every state transition of a running task, as Redis sees it: what a worker does (fetch, finish,
 * retry, release, heartbeat, recover) and progress. Each multi-key change is one Lua script (see
 * {@link LuaScript}); the caller passes the time, scripts never read the clock.
 */
public final class RunStore {
    private static final Logger log = LoggerFactory.getLogger(RunStore.class);
    private final ScriptRunner scripts;
    private final RedisCalls calls;
    /** How the scripts publish events ({@link EventMode}). */
    private final String eventMode;

    public RunStore(RedisConnector redis) {
        this.scripts = new ScriptRunner(redis.async());
        this.calls = new RedisCalls(redis);
        this.eventMode = EventMode.of(redis);
    }

    /** Script round trips made through this store so far. */
    public long scriptCalls() {
        return scripts.calls();
    }

    /** A run's end, as the worker reports it: SUCCESS with the response JSON, FAILURE with the error. */
    public record Completion(FetchedTask run, TaskStatus status, String payload) {
    }

    /**
     * What one {@link #finish} did: a result per completion (in order), the runs it took, and the
     * canceled tasks whose {@code error} handler this worker is to run (each is handed to one
     * worker only).
     */
    public record FinishResult(List<TransitionResult> ended, List<FetchedTask> fetched, List<DueHandler> errorHandlersDue,
                               long nextDue, boolean watchDue, boolean heldBack) {
        /** {@link #nextDue()}: the call fetched nothing, so it did not look at the delayed set. */
        public static final long NOT_LOOKED = -1;
        /** {@link #nextDue()}: no task is delayed. */
        public static final long NONE_DELAYED = 0;

        public FinishResult(List<TransitionResult> ended, List<FetchedTask> fetched) {
            this(ended, fetched, List.of(), NOT_LOOKED, false, false);
        }
    }

    /** A canceled task whose {@code error} handler is due, with the error it ended with. */
    public record DueHandler(long id, String error) {
    }

    /**
     * One worker round trip: ends {@code completions} (each only if the worker still holds its
     * lease) and takes up to {@code max} waiting tasks under new leases. A waiting task whose hash
     * holds garbage ends in FAILURE instead. Finished tasks expire after {@code keep}, and their
     * entries in the {@code succeeded}/{@code failed} indexes are pruned then. A paused kind gives
     * no task; a fetch also hands out due error handlers of canceled tasks. A fetch first moves
     * the delayed tasks due by {@code now} to the queue (at most 1,000 per call) and answers the
     * earliest due time still delayed ({@link FinishResult#nextDue()}), and whether this worker,
     * going idle, is the one to set its timer for it ({@link FinishResult#watchDue()}).
     */
    public CompletableFuture<FinishResult> finish(String task, String worker, List<Completion> completions, int max,
                                                   long now, long leaseDeadline, Duration keep) {
        Keys keys = Keys.of(task);
        long claimLife = Math.max(leaseDeadline - now, 1000) * 2;
        List<String> args = new ArrayList<>(12 + completions.size() * 4);
        args.add(Long.toString(now));
        args.add(keys.task());
        args.add(keys.eventsPrefix());
        args.add(Long.toString(keep.toMillis()));
        args.add(worker);
        args.add(Integer.toString(max));
        args.add(Long.toString(leaseDeadline));
        args.add(RequestIds.next());
        args.add(Long.toString(claimLife));
        args.add(Integer.toString(completions.size()));
        for (Completion completion : completions) {
            args.add(Long.toString(completion.run().id()));
            args.add(completion.run().token());
            args.add(completion.status().name());
            args.add(completion.payload());
        }
        args.add(eventMode);
        args.add(keys.kindEvents());
        return scripts.run(LuaScript.FINISH, finishKeys(keys, worker), args.toArray(String[]::new))
                .thenApply(reply -> {
                    long nextDue = (Long) reply.getFirst();
                    long watch = (Long) reply.get(1);
                    int ended = completions.size();
                    List<TransitionResult> results = new ArrayList<>(ended);
                    for (int i = 2; i < ended + 2; i++) {
                        results.add(TransitionResult.fromCode((Long) reply.get(i)));
                    }
                    int dueCount = ((Long) reply.get(ended + 2)).intValue();
                    List<DueHandler> due = new ArrayList<>(dueCount);
                    int runsFrom = ended + 3 + 2 * dueCount;
                    for (int i = ended + 3; i < runsFrom; i += 2) {
                        due.add(new DueHandler(Long.parseLong((String) reply.get(i)), (String) reply.get(i + 1)));
                    }
                    List<FetchedTask> fetched = new ArrayList<>((reply.size() - runsFrom) / 5);
                    for (int i = runsFrom; i + 4 < reply.size(); i += 5) {
                        String entry = (String) reply.get(i);
                        int attempt = ((Long) reply.get(i + 1)).intValue();
                        if (attempt == 0) {
                            // The script dropped a queue entry that is no task; it says why.
                            log.warn("task {}: dropped '{}' from the waiting queue: {}", task, entry, reply.get(i + 2));
                            continue;
                        }
                        fetched.add(new FetchedTask(task, Long.parseLong(entry), attempt, (String) reply.get(i + 2),
                                FetchedTask.token(worker, (Long) reply.get(i + 4)), (Long) reply.get(i + 3)));
                    }
                    return new FinishResult(results, fetched, due, nextDue, watch > 0, watch == 2);
                });
    }

    /** The keys of {@code finish-15.lua} for {@code worker}'s round trips on {@code keys}' kind, in its order. */
    public static String[] finishKeys(Keys keys, String worker) {
        return new String[] {keys.waiting(), keys.leases(), keys.wake(), keys.taskPrefix(), keys.claim(worker), keys.stats(),
                keys.succeeded(), keys.failed(), keys.paused(), keys.errorHandlersDue(), keys.delayed(), keys.dueWatch(),
                keys.flow(), keys.rate(), keys.uniquePrefix()};
    }

    /** Takes up to {@code max} waiting tasks under leases held by {@code worker}. */
    public CompletableFuture<List<FetchedTask>> fetch(String task, int max, long now, long leaseDeadline, String worker,
                                                     Duration keep) {
        return finish(task, worker, List.of(), max, now, leaseDeadline, keep).thenApply(FinishResult::fetched);
    }

    /** Ends one run in SUCCESS ({@code payload} = response JSON) or FAILURE ({@code payload} = error text). */
    public CompletableFuture<TransitionResult> complete(FetchedTask run, TaskStatus status, String payload, long now,
                                                       Duration keep) {
        return finish(run.task(), run.worker(), List.of(new Completion(run, status, payload)), 0, now, now, keep)
                .thenApply(result -> result.ended().getFirst());
    }

    /**
     * A failed run with runs left gives its task back to wait for its next run: the lease ends, the
     * task is WAITING with {@code error} and {@code due_at} = {@code now} + {@code wait}, in the
     * kind's {@code delayed} set (with no wait: at the back of the queue), and the next run is
     * fetched like any task. {@code counts} false: the run does not count against {@code attempts}
     * (the hash's {@code attempt} goes back by one, {@code free_runs} up by one). A re-send answers
     * ALREADY_DONE.
     */
    public CompletableFuture<TransitionResult> retry(FetchedTask failed, String error, long now, Duration wait, boolean counts) {
        return retry(failed, error, now, wait, counts ? RetryCount.COUNTED : RetryCount.FREE);
    }

    /** How a failed run counts: against {@code attempts}, not, or not and the whole kind holds back for the wait. */
    public enum RetryCount {
        COUNTED("counted"), FREE("free"), HOLDS_KIND("held");

        private final String argument;

        RetryCount(String argument) {
            this.argument = argument;
        }
    }

    /**
     * As {@link #retry(FetchedTask, String, long, Duration, boolean)}; {@link RetryCount#HOLDS_KIND}:
     * the run does not count, and no task of the kind starts until {@code now + wait} (the processor
     * said the service it calls limits it).
     */
    public CompletableFuture<TransitionResult> retry(FetchedTask failed, String error, long now, Duration wait, RetryCount count) {
        Keys keys = Keys.of(failed.task());
        return scripts.run(LuaScript.RETRY,
                new String[] {keys.task(failed.id()), keys.leases(), keys.delayed(), keys.waiting(), keys.wake(), keys.stats(),
                        keys.flow()},
                Long.toString(failed.id()), failed.token(), error, Long.toString(now), Long.toString(wait.toMillis()),
                count.argument, keys.task(), keys.events(failed.id()), eventMode, keys.kindEvents())
                .thenApply(RunStore::transition);
    }

    /**
     * Holds partition {@code partition} back until {@code until} (epoch ms, Redis' clock): the
     * other partitions of a kind whose processor said, in a run of one partition, that the service
     * it calls limits it ({@link RetryCount#HOLDS_KIND} held that one). A later hold never shortens an earlier one.
     */
    public CompletableFuture<TransitionResult> hold(String partition, long until, String reason) {
        return scripts.run(LuaScript.HOLD, new String[] {Keys.of(partition).flow()}, Long.toString(until), reason)
                .thenApply(RunStore::transition);
    }

    /** Hands a running task back to the queue; the interrupted run does not count. */
    public CompletableFuture<TransitionResult> release(FetchedTask run, long now) {
        Keys keys = Keys.of(run.task());
        String message = TaskEvent.requeued(keys.task(), run.id(), now).toString();
        return scripts.run(LuaScript.RELEASE,
                new String[] {keys.task(run.id()), keys.leases(), keys.waiting(), keys.wake()},
                Long.toString(run.id()), run.token(), keys.events(run.id()), message, eventMode, keys.kindEvents())
                .thenApply(RunStore::transition);
    }

    /**
     * A lease the heartbeat found gone. {@code canceledAs} is the error an operator's cancel gave
     * the task ("canceled by X") when it was this lease's run the cancel stopped ("canceled" when
     * the task was retried since); null when the lease went otherwise (it expired and the task was
     * recovered).
     */
    public record LostLease(long id, String canceledAs) {
        public boolean canceled() {
            return canceledAs != null;
        }
    }

    /** Extends the leases still held; returns the ones lost, and why. */
    public CompletableFuture<List<LostLease>> heartbeat(String task, long leaseDeadline, List<FetchedTask> runs) {
        Keys keys = Keys.of(task);
        List<String> args = new ArrayList<>(1 + runs.size() * 2);
        args.add(Long.toString(leaseDeadline));
        for (FetchedTask run : runs) {
            args.add(Long.toString(run.id()));
            args.add(run.token());
        }
        return scripts.run(LuaScript.HEARTBEAT, new String[] {keys.leases(), keys.taskPrefix()}, args.toArray(String[]::new))
                .thenApply(reply -> {
                    List<LostLease> lost = new ArrayList<>(reply.size() / 2);
                    for (int i = 0; i + 1 < reply.size(); i += 2) {
                        String cancel = (String) reply.get(i + 1);
                        lost.add(new LostLease(Long.parseLong((String) reply.get(i)), cancel.isEmpty() ? null : cancel));
                    }
                    return lost;
                });
    }

    /**
     * Requeues (or fails, when out of runs) tasks whose lease expired before {@code now}, with the
     * runs and retention of the published definition.
     */
    public CompletableFuture<RecoverResult> recover(String task, long now, int limit) {
        return recover(task, now, limit, "", "");
    }

    /**
     * As {@link #recover(String, long, int)}; should the published definition be missing (deleted
     * by hand), the runs and retention of {@code ownDefinition} are used instead of none.
     */
    public CompletableFuture<RecoverResult> recover(TaskDefinition ownDefinition, long now, int limit) {
        return recover(ownDefinition.id(), now, limit, Integer.toString(ownDefinition.attempts()),
                Long.toString(ownDefinition.keep().toSeconds()));
    }

    /** As {@link #recover(TaskDefinition, long, int)}, for one partition of a partitioned kind (its name: {@link Keys#partition()}). */
    public CompletableFuture<RecoverResult> recover(String partition, TaskDefinition ownDefinition, long now, int limit) {
        return recover(partition, now, limit, Integer.toString(ownDefinition.attempts()),
                Long.toString(ownDefinition.keep().toSeconds()));
    }

    private CompletableFuture<RecoverResult> recover(String task, long now, int limit, String attempts, String keepSeconds) {
        Keys keys = Keys.of(task);
        return scripts.run(LuaScript.RECOVER,
                new String[] {keys.leases(), keys.waiting(), keys.wake(), keys.definition(), keys.taskPrefix(), keys.stats(),
                        keys.failed(), keys.succeeded(), keys.uniquePrefix(), keys.flow()},
                Long.toString(now), Integer.toString(limit), keys.task(), keys.eventsPrefix(), attempts, keepSeconds, eventMode,
                keys.kindEvents())
                .thenApply(reply -> {
                    int failedCount = ((Long) reply.get(1)).intValue();
                    List<Long> failed = reply.subList(2, 2 + failedCount).stream().map(id -> Long.parseLong((String) id)).toList();
                    List<RecoverResult.Dropped> dropped = new ArrayList<>();
                    for (int i = 2 + failedCount; i + 1 < reply.size(); i += 2) {
                        dropped.add(new RecoverResult.Dropped((String) reply.get(i), (String) reply.get(i + 1)));
                    }
                    return new RecoverResult(((Long) reply.getFirst()).intValue(), failed, dropped);
                });
    }

    /** What one {@link #promoteDue} call did: how many due tasks moved to the queue, and the earliest due time left (0: none). */
    public record DuePromotion(int moved, long nextDue) {
    }

    /**
     * Moves up to {@code limit} (at most 1,000) delayed tasks due by {@code now} to the queue, and
     * wakes an idle worker when the queue was empty. A fetch does this itself; this is for when
     * no worker fetches (every slot busy).
     */
    public CompletableFuture<DuePromotion> promoteDue(String task, long now, int limit) {
        Keys keys = Keys.of(task);
        return scripts.run(LuaScript.PROMOTE_DUE,
                        new String[] {keys.delayed(), keys.waiting(), keys.wake(), keys.taskPrefix(), keys.flow()},
                        Long.toString(now), Integer.toString(limit))
                .thenApply(reply -> new DuePromotion(((Long) reply.getFirst()).intValue(), (Long) reply.get(1)));
    }

    /** Records progress from outside a run (a command line, a client) and publishes it. */
    public void progress(String task, long id, long current, long total, String message, long now) {
        progress(task, id, current, total, message, now, null);
    }

    /**
     * Records progress and publishes it. {@code leaseToken} is the reporting run's token when the
     * progress comes from inside a run: it is recorded only while that run holds the task's lease.
     * Null (from outside a run) records it for any task that is WAITING or RUNNING.
     *
     * @throws LeaseLostException when the run no longer holds the lease; nothing was written or published
     */
    public void progress(String task, long id, long current, long total, String message, long now, String leaseToken) {
        Keys keys = Keys.of(task);
        var event = TaskEvent.progress(keys.task(), id, current, total, message, now);
        List<Object> reply = calls.await(scripts.run(LuaScript.PROGRESS, new String[] {keys.task(id)},
                Long.toString(current), Long.toString(total), message, Long.toString(now), keys.events(id),
                event.toString(), leaseToken == null ? "" : leaseToken, eventMode, keys.kindEvents()), "record progress of task " + task + " #" + id);
        switch (ScriptReply.of(reply)) {
            case DONE -> {
            }
            case TASK_MISSING ->
                throw new UnknownTaskException("task " + task + " #" + id + " does not exist (never added, or expired)");
            case WRONG_STATUS ->
                throw new TaskpoolException("task " + task + " #" + id + " has already finished; progress can no longer change");
            case LEASE_LOST -> throw new LeaseLostException("task " + task + " #" + id + ": progress not recorded: this run (lease "
                    + leaseToken + ") no longer holds the task (its lease expired and the task was recovered, or an"
                    + " operator canceled it; another run may hold it now), so this run can change nothing");
            default -> throw new IllegalStateException("progress answered " + reply);
        }
    }

    /** Waits for a reply as every store call does (see {@link RedisCalls#await}). */
    public <T> T await(CompletableFuture<T> future, String what) {
        return calls.await(future, what);
    }

    /** A reply bounded by a wait of the caller's own (the heartbeat's), without waiting (see {@link RedisCalls#bounded}). */
    public <T> CompletableFuture<T> bounded(CompletableFuture<T> future, String what, Duration wait) {
        return calls.bounded(future, what, wait);
    }

    private static TransitionResult transition(List<Object> reply) {
        return TransitionResult.fromCode((Long) reply.getFirst());
    }
}
