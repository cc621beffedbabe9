package dev.taskpool.core.redis;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every state transition of a task, as Redis sees it. Each multi-key change is one Lua script
 * (see {@link LuaScript}); the caller passes the time, scripts never read the clock.
 */
public final class TaskStore {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TaskStore.class);
    private final RedisConnector redis;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final ScriptRunner scripts;
    private final Duration timeout;
    private final AddSender adds;
    /** How the finish script publishes events ({@link EventMode}). */
    private final String eventMode;

    /** A store whose adds re-send for up to three command timeouts before reporting an unknown outcome. */
    public TaskStore(RedisConnector redis) {
        this(redis, redis.timeouts().defaultAddDeadline());
    }

    /**
     * @param addDeadline how long an add whose reply does not come keeps re-sending the same
     *                    request before it throws {@link AddOutcomeUnknownException}
     */
    public TaskStore(RedisConnector redis, Duration addDeadline) {
        this.redis = redis;
        this.commands = redis.async();
        this.scripts = redis.scripts();
        this.timeout = redis.timeouts().replyWait();
        this.adds = new AddSender(redis, scripts, addDeadline);
        this.eventMode = EventMode.of(redis);
    }

    public RedisConnector redis() {
        return redis;
    }

    /** Script round trips made through this store so far. */
    public long scriptCalls() {
        return scripts.calls();
    }

    /**
     * Publishes a definition so thin clients and the enqueue script know the task and its size.
     * What is already there is not written again: a worker then starts against a full Redis
     * (maxmemory), which refuses every write that could add memory, even one that changes nothing.
     */
    public void publish(TaskDefinition definition) {
        Keys keys = Keys.of(definition.id());
        Map<String, String> wanted = definition.toPublishedFields();
        Map<String, String> published = readChecked(commands.hgetall(keys.definition()).toCompletableFuture(),
                keys.definition(), "hash", "read the published definition of task " + definition.id());
        if (!wanted.equals(published)) {
            List<String> fields = new ArrayList<>();
            wanted.forEach((field, value) -> {
                fields.add(field);
                fields.add(value);
            });
            await(scripts.run(LuaScript.DEFINE, new String[] {keys.definition()}, fields.toArray(String[]::new)),
                    "publish task " + definition.id() + (published == null || published.isEmpty() ? ""
                            : " (its published definition differs from this app's, so it must be written)"));
        }
        Boolean registered = readChecked(commands.sismember(Keys.TASK_REGISTRY, definition.id()).toCompletableFuture(),
                Keys.TASK_REGISTRY, "set", "look up task " + definition.id() + " in " + Keys.TASK_REGISTRY);
        if (!Boolean.TRUE.equals(registered)) {
            await(commands.sadd(Keys.TASK_REGISTRY, definition.id()).toCompletableFuture(), "register task " + definition.id());
        }
    }

    /**
     * Waits for a read of one key; when Redis refuses it because the key holds another type,
     * the error names the key and what it holds (Redis' own WRONGTYPE message names neither).
     */
    private <T> T readChecked(CompletableFuture<T> read, String key, String expected, String what) {
        try {
            return await(read, what);
        } catch (TaskpoolException e) {
            if (repliedWith(e, "WRONGTYPE")) {
                String held = await(commands.type(key).toCompletableFuture(), "read the type of " + key);
                throw new TaskpoolException("cannot " + what + ": key " + key + " holds a " + held + ", expected a "
                        + expected + "; nothing was changed (repair or delete the key)", e);
            }
            throw e;
        }
    }

    /** The published definition's fields, or empty when no runtime has published this task. */
    public Optional<Map<String, String>> publishedDefinition(String task) {
        Map<String, String> fields = await(commands.hgetall(Keys.of(task).definition()).toCompletableFuture(),
                "read the definition of task " + task);
        return fields == null || fields.isEmpty() ? Optional.empty() : Optional.of(fields);
    }

    /**
     * The published definition's fields, or empty when no runtime has published this task, without
     * blocking: fails with a {@link TaskpoolException} naming the task when Redis cannot be read.
     */
    public CompletableFuture<Optional<Map<String, String>>> publishedDefinitionAsync(String task) {
        return commands.hgetall(Keys.of(task).definition()).toCompletableFuture()
                .handle((fields, error) -> {
                    if (error != null) {
                        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                                ? error.getCause() : error;
                        String what = "read the definition of task " + task;
                        throw AclRefusal.explain(cause, redis.user(), what).map(line -> new TaskpoolException(line, cause))
                                .orElseGet(() -> new TaskpoolException("Redis at " + redis.describe() + " failed to " + what
                                        + ": " + RedisConnector.rootMessage(cause), cause));
                    }
                    return fields == null || fields.isEmpty() ? Optional.<Map<String, String>>empty() : Optional.of(fields);
                });
    }

    /**
     * As {@link #add}, without holding the calling thread while Redis answers (see
     * {@code AddSender.settleAsync}): the future completes on Lettuce's I/O thread with the
     * result, or fails with what {@link #add} would throw.
     */
    public CompletableFuture<AddResult> addAsync(String task, Long id, String argsJson, long now) {
        List<NewTask> tasks = List.of(new NewTask(id, argsJson));
        try {
            requireValid(task, tasks);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return adds.settleAsync(adds.newRequest(task, tasks, now), now)
                .thenApply(ids -> new AddResult(task, ids.isEmpty() ? 0 : ids.getFirst()));
    }

    /**
     * Adds a task. {@code id} null takes the next value of the task's counter.
     *
     * @throws UnknownTaskException        when no runtime has published the task
     * @throws AddOutcomeUnknownException  when Redis did not answer within the add deadline
     * @throws TaskpoolException           when the id is taken, a key is wrong-typed or Redis is full
     */
    public AddResult add(String task, Long id, String argsJson, long now) {
        List<Long> ids = addAll(task, List.of(new NewTask(id, argsJson)), now);
        return new AddResult(task, ids.isEmpty() ? 0 : ids.getFirst());
    }

    /** One task of a batch add: its id (null for the next value of the counter) and its arguments. */
    public record NewTask(Long id, String argsJson) {
    }

    /**
     * Adds tasks, all or nothing for up to {@link AddRequest#CHUNK} of them (one script call).
     * Either every one is enqueued (their ids are returned in order), or none is: an empty list
     * when the queue cannot take them all. A bigger batch goes as chunks of that size in order,
     * each atomic and idempotent on its own; the first chunk admits the whole batch against
     * {@code size}. A send without reply is sent again under the same request id until Redis
     * answers or the add deadline passes, so a timeout never adds twice.
     *
     * @throws UnknownTaskException        when no runtime has published the task
     * @throws AddOutcomeUnknownException  when Redis did not answer within the add deadline
     * @throws AddIncompleteException      when a chunk after the first added ones was refused
     * @throws TaskpoolException           when an id is taken, a key is wrong-typed or Redis is full (nothing is written)
     */
    public List<Long> addAll(String task, List<NewTask> tasks, long now) {
        requireValid(task, tasks);
        if (tasks.isEmpty()) {
            return List.of();
        }
        return adds.settle(adds.newRequest(task, tasks, now), now);
    }

    private static void requireValid(String task, List<NewTask> tasks) {
        TaskIds.requireValid(task);
        for (NewTask item : tasks) {
            if (item.id() != null) {
                TaskIds.requireValidNumber(task, item.id());
            }
        }
    }

    /**
     * Sends an add whose outcome was unknown again, under its request id: returns the ids it got if
     * it had been applied, else applies it once (an empty list when the queue is full now).
     *
     * @throws AddOutcomeUnknownException when Redis again did not answer within the add deadline
     * @throws TaskpoolException          when it is past {@link AddRequest#retryBefore()}
     */
    public List<Long> retryAdd(AddRequest request, long now) {
        requireValid(request.task(), request.tasks());
        return adds.settle(request, now);
    }

    /** How long an add keeps re-sending without reply before it throws {@link AddOutcomeUnknownException}. */
    public Duration addDeadline() {
        return adds.deadline();
    }

    /** How long Redis remembers an add request id (the record {@code taskpool:{T}:req:<id>}). */
    public Duration addRequestMemory() {
        return adds.requestMemory();
    }

    public static UnknownTaskException unknownTask(String task) {
        return new UnknownTaskException("unknown task '" + task + "': no runtime has published it to Redis"
                + " (start a worker or run a process with the app that defines tasks/" + task.replace('.', '/') + ".yao)");
    }

    /** A run's end, as the worker reports it: SUCCESS with the response JSON, FAILURE with the error. */
    public record Completion(FetchedTask run, TaskStatus status, String payload) {
    }

    /**
     * What one {@link #finish} did: a result per completion (in order), the runs it took, and the
     * canceled tasks whose {@code error} handler this worker is to run (each is handed to one
     * worker only).
     */
    public record FinishResult(List<TransitionResult> ended, List<FetchedTask> fetched, List<DueHandler> errorHandlersDue) {
        public FinishResult(List<TransitionResult> ended, List<FetchedTask> fetched) {
            this(ended, fetched, List.of());
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
     * no task; a fetch also hands out due error handlers of canceled tasks.
     */
    public CompletableFuture<FinishResult> finish(String task, String worker, List<Completion> completions, int max,
                                                   long now, long leaseDeadline, Duration keep) {
        Keys keys = Keys.of(task);
        long claimLife = Math.max(leaseDeadline - now, 1000) * 2;
        List<String> args = new ArrayList<>(10 + completions.size() * 4);
        args.add(Long.toString(now));
        args.add(task);
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
        return scripts.run(LuaScript.FINISH,
                new String[] {keys.waiting(), keys.leases(), keys.wake(), keys.taskPrefix(), keys.claim(worker), keys.stats(),
                        keys.succeeded(), keys.failed(), keys.paused(), keys.errorHandlersDue()},
                args.toArray(String[]::new))
                .thenApply(reply -> {
                    int ended = completions.size();
                    List<TransitionResult> results = new ArrayList<>(ended);
                    for (int i = 0; i < ended; i++) {
                        results.add(TransitionResult.fromCode((Long) reply.get(i)));
                    }
                    int dueCount = ((Long) reply.get(ended)).intValue();
                    List<DueHandler> due = new ArrayList<>(dueCount);
                    int runsFrom = ended + 1 + 2 * dueCount;
                    for (int i = ended + 1; i < runsFrom; i += 2) {
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
                    return new FinishResult(results, fetched, due);
                });
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
     * Records a failed run and starts run {@code next.attempt()} under the token {@code next.token()},
     * which must be {@code failed.nextRun()}'s: the same worker, the next lease number.
     */
    public CompletableFuture<TransitionResult> retry(FetchedTask failed, FetchedTask next, String error, long now,
                                                    long leaseDeadline, String eventMessage) {
        Keys keys = Keys.of(failed.task());
        return scripts.run(LuaScript.RETRY, new String[] {keys.task(failed.id()), keys.leases(), keys.stats()},
                Long.toString(failed.id()), failed.token(), next.token(), Integer.toString(next.attempt()), error,
                Long.toString(now), Long.toString(leaseDeadline), keys.events(failed.id()), eventMessage)
                .thenApply(TaskStore::transition);
    }

    /** Hands a running task back to the queue; the interrupted run does not count. */
    public CompletableFuture<TransitionResult> release(FetchedTask run, long now) {
        Keys keys = Keys.of(run.task());
        String message = TaskEvent.message(TaskEvent.REQUEUED, run.task(), run.id(), TaskStatus.WAITING, now).toString();
        return scripts.run(LuaScript.RELEASE,
                new String[] {keys.task(run.id()), keys.leases(), keys.waiting(), keys.wake()},
                Long.toString(run.id()), run.token(), keys.events(run.id()), message)
                .thenApply(TaskStore::transition);
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

    private CompletableFuture<RecoverResult> recover(String task, long now, int limit, String attempts, String keepSeconds) {
        Keys keys = Keys.of(task);
        return scripts.run(LuaScript.RECOVER,
                new String[] {keys.leases(), keys.waiting(), keys.wake(), keys.definition(), keys.taskPrefix(), keys.stats(),
                        keys.failed(), keys.succeeded()},
                Long.toString(now), Integer.toString(limit), task, keys.eventsPrefix(), attempts, keepSeconds)
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
        var event = TaskEvent.message(TaskEvent.PROGRESS, task, id, null, now);
        event.put("current", current);
        event.put("total", total);
        event.put("message", message);
        List<Object> reply = await(scripts.run(LuaScript.PROGRESS, new String[] {keys.task(id)},
                Long.toString(current), Long.toString(total), message, Long.toString(now), keys.events(id),
                event.toString(), leaseToken == null ? "" : leaseToken), "record progress of task " + task + " #" + id);
        long code = (Long) reply.getFirst();
        if (code == -3) {
            throw new UnknownTaskException("task " + task + " #" + id + " does not exist (never added, or expired)");
        }
        if (code == -5) {
            throw new TaskpoolException("task " + task + " #" + id + " has already finished; progress can no longer change");
        }
        if (code == -4) {
            throw new LeaseLostException("task " + task + " #" + id + ": progress not recorded: this run (lease "
                    + leaseToken + ") no longer holds the task (its lease expired and the task was recovered, or an"
                    + " operator canceled it; another run may hold it now), so this run can change nothing");
        }
    }

    /** The counters of a task kind, which outlive the tasks themselves (added, succeeded, failed, retried, recovered, canceled). */
    public Map<String, Long> stats(String task) {
        Map<String, String> hash = await(commands.hgetall(Keys.of(task).stats()).toCompletableFuture(),
                "read the counters of task " + task);
        Map<String, Long> counters = new TreeMap<>();
        for (String name : List.of("added", "succeeded", "failed", "retried", "recovered", "canceled")) {
            counters.put(name, Long.parseLong(hash.getOrDefault(name, "0")));
        }
        return counters;
    }

    /** Reads a task; empty when it does not exist (never added, or expired after its retention). */
    public Optional<TaskInfo> get(String task, long id) {
        Map<String, String> hash = await(commands.hgetall(Keys.of(task).task(id)).toCompletableFuture(),
                "read task " + task + " #" + id);
        return hash == null || hash.isEmpty() ? Optional.empty() : Optional.of(TaskInfo.fromHash(task, id, hash));
    }

    /** Waits for a Redis reply, turning failures into errors that say what was being done. */
    public <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskpoolException("interrupted while trying to " + what, e);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw failure(e, what);
        } catch (ExecutionException e) {
            throw failure(e.getCause(), what);
        }
    }

    /**
     * A Redis reply as {@link #await} bounds it (the command timeout and a second), without
     * waiting: it fails with the error {@code await} would throw. For a caller that sends several
     * commands (to several Cluster masters, say) and then waits for them together, so that one
     * node that does not answer holds up none of the others.
     */
    public <T> CompletableFuture<T> bounded(CompletableFuture<T> future, String what) {
        return bounded(future, what, timeout);
    }

    /**
     * {@link #bounded(CompletableFuture, String)} with a wait of the caller's own: the heartbeat's,
     * which must end before the lease it extends could lapse.
     */
    public <T> CompletableFuture<T> bounded(CompletableFuture<T> future, String what, Duration wait) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        future.orTimeout(wait.toMillis(), TimeUnit.MILLISECONDS).whenComplete((value, error) -> {
            if (error == null) {
                answer.complete(value);
            } else {
                answer.completeExceptionally(failure(error instanceof CompletionException && error.getCause() != null
                        ? error.getCause() : error, what, wait));
            }
        });
        return answer;
    }

    private TaskpoolException failure(Throwable cause, String what) {
        return failure(cause, what, timeout);
    }

    private TaskpoolException failure(Throwable cause, String what, Duration waited) {
        if (cause instanceof TaskpoolException known) {
            return known;
        }
        if (cause instanceof TimeoutException) {
            return new TaskpoolException("Redis at " + redis.describe() + " did not answer within "
                    + Durations.text(waited) + " while trying to " + what, cause);
        }
        return AclRefusal.explain(cause, redis.user(), what).map(line -> new TaskpoolException(line, cause))
                .orElseGet(() -> new TaskpoolException("Redis at " + redis.describe() + " failed to " + what + ": "
                        + RedisConnector.rootMessage(cause), cause));
    }

    /** Whether Redis answered with an error reply of this code (e.g. WRONGTYPE, OOM) somewhere in the causes. */
    static boolean repliedWith(Throwable error, String code) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof RedisCommandExecutionException && cause.getMessage() != null
                    && cause.getMessage().startsWith(code)) {
                return true;
            }
        }
        return false;
    }

    private static TransitionResult transition(List<Object> reply) {
        return TransitionResult.fromCode((Long) reply.getFirst());
    }
}
