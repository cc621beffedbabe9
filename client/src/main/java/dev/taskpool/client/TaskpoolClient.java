package dev.taskpool.client;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.taskpool.core.TaskFailedException;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.ValueLimits;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.redis.AddIncompleteException;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.core.run.RunStore;
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The thin Java client: adds tasks, reads them, records progress, awaits results and watches
 * events. It runs no JavaScript: a task whose published definition has a script for
 * {@code event.next} or {@code event.add} needs a Java handler given here, or the add is refused
 * with an error saying so.
 *
 * <pre>{@code
 * try (TaskpoolClient client = TaskpoolClient.connect("redis://127.0.0.1:6379")) {
 *     AddResult added = client.add("mail.send", "ada@example.com");
 *     TaskInfo done = client.await("mail.send", added.id(), Duration.ofSeconds(30));
 * }
 * }</pre>
 */
public final class TaskpoolClient implements AutoCloseable {
    /** Where {@link #onAdded} handlers of asynchronous adds run: never on the client's I/O thread. */
    private static final Executor HANDLERS = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("taskpool-on-added-", 0).factory());

    private final RedisConnector redis;
    private final AddStore store;
    private final RunStore runs;
    private final TaskReads reads;
    private final InstantSource clock;
    private final JavaAddHandlers handlers = new JavaAddHandlers();
    private final PublishedDefinitions definitions;
    private final Schedules schedules;
    private volatile EventHub events;
    private volatile TaskOperations operations;
    /** The largest arguments an add may carry (1 MiB of JSON by default, as for scripts). */
    private volatile ValueLimits limits = ValueLimits.defaults();

    private TaskpoolClient(RedisConnector redis, AddStore store, InstantSource clock) {
        this.redis = redis;
        this.store = store;
        this.runs = new RunStore(redis);
        this.reads = new TaskReads(redis, store.layouts());
        this.clock = clock;
        this.definitions = new PublishedDefinitions(store);
        this.schedules = new Schedules(new ScheduleOperations(redis, clock.withZone(ZoneOffset.UTC)));
    }

    /**
     * Connects to Redis: {@code redis://host:port} or {@code rediss://user:password@host:port/db}
     * (a standalone Redis, or a Cluster when that node is in cluster mode),
     * {@code redis://h1:p1,h2:p2} (Cluster seed nodes), {@code redis-sentinel://h1:p1,h2:p2#master}.
     */
    public static TaskpoolClient connect(String redisUri) {
        RedisConnector redis = RedisConnector.connect(redisUri);
        return new TaskpoolClient(redis, new AddStore(redis), redis.clock());
    }

    public static TaskpoolClient connect(String redisUri, Duration commandTimeout) {
        RedisConnector redis = RedisConnector.connect(redisUri, commandTimeout);
        return new TaskpoolClient(redis, new AddStore(redis), redis.clock());
    }

    /**
     * @param commandTimeout how long one Redis command may take
     * @param addDeadline    how long an add whose reply does not come keeps sending the same request
     *                       again before it throws {@link AddOutcomeUnknownException} (default: three
     *                       command timeouts)
     */
    public static TaskpoolClient connect(String redisUri, Duration commandTimeout, Duration addDeadline) {
        return connect(redisUri, commandTimeout, addDeadline, RedisTls.fromEnvironment());
    }

    /**
     * Connects to a {@code rediss://} Redis with a private CA or a client certificate (mutual TLS),
     * e.g. {@code RedisTls.none().withCa(Path.of("/etc/redis/ca.pem"))}; the other methods read them from
     * {@code TASKPOOL_REDIS_CA}, {@code TASKPOOL_REDIS_CERT} and {@code TASKPOOL_REDIS_KEY}.
     */
    public static TaskpoolClient connect(String redisUri, RedisTls tls) {
        RedisConnector redis = RedisConnector.connect(redisUri, RedisConnector.DEFAULT_COMMAND_TIMEOUT, tls);
        return new TaskpoolClient(redis, new AddStore(redis), redis.clock());
    }

    /** As {@link #connect(String, Duration, Duration)}, with the TLS files given here instead of by the environment. */
    public static TaskpoolClient connect(String redisUri, Duration commandTimeout, Duration addDeadline, RedisTls tls) {
        RedisConnector redis = RedisConnector.connect(redisUri, commandTimeout, tls);
        try {
            return new TaskpoolClient(redis, new AddStore(redis, addDeadline), redis.clock());
        } catch (RuntimeException e) {
            redis.close();
            throw e;
        }
    }

    /** Changes the largest arguments one add may carry (e.g. {@code ValueLimits.defaults().withMaxArgsBytes(4 << 20)}). */
    public TaskpoolClient withValueLimits(ValueLimits valueLimits) {
        this.limits = Objects.requireNonNull(valueLimits, "valueLimits");
        return this;
    }

    /** Uses {@code supplier} for the ids of {@code task} (in place of its script {@code event.next}). */
    public TaskpoolClient withIdSupplier(String task, LongSupplier supplier) {
        handlers.idSupplier(task, supplier);
        return this;
    }

    /** Runs {@code handler} after each add to {@code task} (in place of its script {@code event.add}). */
    public TaskpoolClient onAdded(String task, LongConsumer handler) {
        handlers.onAdded(task, handler);
        return this;
    }

    public AddResult add(String task, Object... args) {
        return add(task, Arrays.asList(args));
    }

    /**
     * Adds a task. Its arguments may be plain values (String, numbers, booleans, null, Map, List)
     * or any value Jackson can write: records and beans as JSON objects of their properties,
     * {@code java.time} values as ISO-8601 text, an {@code Optional} as its value or null (docs/client.md).
     * A value that cannot be JSON is refused, naming where in the arguments it is.
     * Returns its id, or a result with {@link AddResult#isQueueFull()} when
     * {@code size} tasks are already waiting (nothing is written then). When Redis does not
     * answer, the same request is sent again until it does or the add deadline passes. Adds to one
     * task made at once (from many threads, or {@link #addAsync}) share Redis round trips: an add
     * that comes while another of its task is out goes with the next call, still a request of its
     * own with its own outcome; a lone add goes at once.
     *
     * @throws UnknownTaskException       when no runtime has published the task
     * @throws AddOutcomeUnknownException when Redis did not answer within the add deadline: the task
     *                                    may have been added; settle it with {@link #retryAdd}
     */
    public AddResult add(String task, List<?> args) {
        return addWith(task, AddOptions.none(), args);
    }

    public AddResult addWith(String task, AddOptions options, Object... args) {
        return addWith(task, options, Arrays.asList(args));
    }

    /**
     * As {@link #add(String, List)}, with {@code options}: {@code AddOptions.delay(Duration.ofMinutes(5))} or
     * {@code AddOptions.at(instant)} starts the task no earlier than that, by Redis' clock (not this machine's);
     * {@code AddOptions.key("invoice-42")} adds nothing while a task added with that key waits or runs
     * (the result is that task's id, and {@link AddResult#duplicate()} says so; no {@link #onAdded}
     * handler runs); {@code AddOptions.priority(3)} starts it before the tasks of lower priority.
     */
    public AddResult addWith(String task, AddOptions options, List<?> args) {
        JavaAddHandlers.Of java = handlers.forAdd(task, definitions.read(task));
        AddResult result = store.addWith(task, java.nextId(), limits.argsJson(task, args), options, clock.millis());
        if (!result.isQueueFull() && !result.duplicate()) {
            java.added(result.id());
        }
        return result;
    }

    public CompletableFuture<AddResult> addAsync(String task, Object... args) {
        return addAsync(task, Arrays.asList(args));
    }

    /**
     * As {@link #add(String, List)}, without holding the calling thread while Redis answers, so
     * that one thread can keep many adds in flight. The future completes with the result, or fails
     * with what {@code add} would throw (an {@link AddOutcomeUnknownException} included, to settle
     * with {@link #retryAdd}). It completes on the client's I/O thread: what is chained to it with
     * {@code thenApply} and the like runs there and must not block (use the {@code ...Async}
     * variants for work that may); an {@link #onAdded} handler runs on a virtual thread of its own.
     * A send that gets no answer is sent again, as {@code add} would, from one of the client's
     * re-sending threads ({@code taskpool-add-resend-N}: at most 8 at a time, up to 10,000 more
     * such adds waiting for one); past that bound the future fails at once with an
     * {@link AddOutcomeUnknownException} saying so, to settle with {@link #retryAdd}.
     */
    public CompletableFuture<AddResult> addAsync(String task, List<?> args) {
        return addWithAsync(task, AddOptions.none(), args);
    }

    public CompletableFuture<AddResult> addWithAsync(String task, AddOptions options, Object... args) {
        return addWithAsync(task, options, Arrays.asList(args));
    }

    /** As {@link #addAsync(String, List)}, with {@code options} (see {@link #addWith(String, AddOptions, List)}). */
    public CompletableFuture<AddResult> addWithAsync(String task, AddOptions options, List<?> args) {
        String argsJson;
        CompletableFuture<Map<String, String>> definition;
        try {
            argsJson = limits.argsJson(task, args);
            definition = definitions.readAsync(task);   // an invalid task id is refused here
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return definition.thenCompose(fields -> {
            JavaAddHandlers.Of java = handlers.forAdd(task, fields);
            CompletableFuture<AddResult> added = store.addWithAsync(task, java.nextId(), argsJson, options, clock.millis());
            if (java.onAdded() == null) {
                return added;
            }
            return added.thenApplyAsync(result -> {
                if (!result.isQueueFull() && !result.duplicate()) {
                    java.added(result.id());
                }
                return result;
            }, HANDLERS);
        });
    }

    /**
     * Adds many tasks: either every one is enqueued and their ids are returned in order, or none
     * is (an empty list) because the queue cannot take them all within {@code size}. Each element
     * of {@code argsOfEachTask} is one task's argument list. Up to {@link AddRequest#CHUNK} tasks
     * go in one script call, all or nothing; a bigger batch goes in chunks of that size, each
     * atomic on its own, the first admitting the whole batch against {@code size}.
     *
     * @throws AddOutcomeUnknownException when Redis did not answer within the add deadline: the
     *                                    tasks may have been added; settle it with {@link #retryAdd}
     * @throws AddIncompleteException     when a chunk after the first added ones was refused (e.g.
     *                                    Redis full): the first ones stay; {@link #retryAdd} adds the rest
     */
    public List<Long> addAll(String task, List<? extends List<?>> argsOfEachTask) {
        return addAll(task, AddOptions.none(), argsOfEachTask);
    }

    /**
     * As {@link #addAll(String, List)}, every task with {@code options} (one due time and priority
     * for the whole batch; a unique key names one task, so a batch of more than one is refused with
     * it). For a kind unique by its arguments, a task whose arguments a waiting or running task
     * (or one before it in the batch) has gets that task's id in the list.
     */
    public List<Long> addAll(String task, AddOptions options, List<? extends List<?>> argsOfEachTask) {
        JavaAddHandlers.Of java = handlers.forAdd(task, definitions.read(task));
        List<NewTask> tasks = new ArrayList<>(argsOfEachTask.size());
        for (List<?> args : argsOfEachTask) {
            tasks.add(new NewTask(java.nextId(), limits.argsJson(task, args)));
        }
        List<Long> added = store.addAll(task, tasks, options, clock.millis());
        added.forEach(java::added);
        return added;
    }

    /**
     * Settles an add whose outcome was unknown: sends the same request (same request id, same
     * tasks) again. Returns the ids it got if it had been applied, or applies it once now (an empty
     * list when the queue is full now). Runs the {@link #onAdded} handler for the ids, as an add does.
     *
     * <pre>{@code
     * try {
     *     id = client.add("mail.send", "ada@example.com").id();
     * } catch (AddOutcomeUnknownException e) {
     *     id = client.retryAdd(e.request()).getFirst();   // never a second task
     * }
     * }</pre>
     *
     * @throws AddOutcomeUnknownException when Redis again did not answer within the add deadline
     * @throws TaskpoolException          when it is past {@link AddRequest#retryBefore()}: Redis may
     *                                    have forgotten the request, so only reading the tasks can tell
     */
    public List<Long> retryAdd(AddRequest request) {
        List<Long> added = store.retryAdd(request, clock.millis());
        added.forEach(handlers.of(request.task())::added);
        return added;
    }

    /**
     * Reads a task; empty when it does not exist (never added, or expired after its retention).
     * Of a partitioned kind, the task is read in the partition its id names (else in partition 0,
     * where the tasks the kind had before it was partitioned stay). Its response as a Java type:
     * {@code get(task, id).map(info -> info.response(Receipt.class))} (see {@link TaskInfo#response(Class)}).
     */
    public Optional<TaskInfo> get(String task, long id) {
        return reads.get(task, id);
    }

    /** Records progress of a task and publishes it (no {@code event.progress} script runs here). */
    public void progress(String task, long id, long current, long total, String message) {
        if (current < 0 || total < 0) {
            throw new TaskpoolException("progress of task " + task + " #" + id + ": current and total must not be negative, got "
                    + current + "/" + total);
        }
        runs.progress(reads.partitionOf(task, id), id, current, total, message == null ? "" : message, clock.millis());
    }

    /**
     * Waits until the task ends (SUCCESS or FAILURE) and returns it, whichever way it ended (a
     * FAILURE is no exception here: read its {@code error}). Subscribes to its events first and
     * reads the hash after, so a completion is never missed; the hash is re-read every second as
     * well, since pub/sub drops messages while a connection is down.
     *
     * @throws TaskpoolException    when the task does not end within {@code timeout}
     * @throws UnknownTaskException when the task does not exist
     */
    public TaskInfo await(String task, long id, Duration timeout) {
        return TaskAwait.until(this, task, id, timeout);
    }

    /**
     * Waits as {@link #await(String, long, Duration)} and returns the task's response as a
     * {@code type}, converted from its JSON with the same mapper that writes arguments, e.g.
     * {@code Receipt receipt = client.await("order.pay", id, Duration.ofSeconds(30), Receipt.class)}.
     *
     * @throws TaskFailedException  when the task ended in FAILURE, with its error and attempt
     * @throws TaskpoolException    when the response does not fit {@code type} (naming task, id,
     *                              type and what did not fit), or the task did not end within {@code timeout}
     * @throws UnknownTaskException when the task does not exist
     */
    public <T> T await(String task, long id, Duration timeout, Class<T> type) {
        return await(task, id, timeout).response(type);
    }

    /** As {@link #await(String, long, Duration, Class)}, for a generic type: {@code new TypeReference<List<Receipt>>() {}}. */
    public <T> T await(String task, long id, Duration timeout, TypeReference<T> type) {
        return await(task, id, timeout).response(type);
    }

    /**
     * What operators read and do (kinds, counts, workers, listings; retry, cancel, pause, resume,
     * delete), over this client's connection.
     */
    public TaskOperations operations() {
        TaskOperations known = operations;
        if (known == null) {
            synchronized (this) {
                if (operations == null) {
                    operations = new TaskOperations(redis, clock.withZone(ZoneOffset.UTC));
                }
                known = operations;
            }
        }
        return known;
    }

    /** The schedules in Redis: create, change, remove, list, stop, start, trigger. */
    public Schedules schedules() {
        return schedules;
    }

    /**
     * Delivers every event of one task until the subscription is closed.
     *
     * <p><b>Which thread calls the listener:</b> a virtual thread of the client's own (named
     * {@code taskpool-events-N}), never the thread that reads Redis's replies. Events of one
     * subscription come one at a time, in the order Redis published them; subscriptions do not
     * wait for each other. So a listener may block, and may call this client ({@code get},
     * {@code await}, {@code add}, {@code subscribe}...) without holding up other replies.
     * <b>When it is slow</b>, its events wait for it in a queue of at most 10,000 events (and 16 Mi
     * characters of event text); past that the oldest waiting one is dropped and a warning is
     * logged. Closing the client interrupts listeners still running.
     *
     * <p>This returns once Redis has confirmed the subscription, or after the command timeout when
     * it does not answer (unreachable): the subscription is then made as soon as Redis answers,
     * and made again whenever the connection comes back after a cut. Pub/sub keeps no events:
     * those published while it was not in place are not delivered, so read the task to catch up.
     */
    public Subscription subscribe(String task, long id, Consumer<TaskEvent> listener) {
        return events().subscribeTask(task, id, listener, null);
    }

    /**
     * As {@link #subscribe(String, long, Consumer)}, calling the listener through {@code executor}
     * (still one event at a time, in order, for this subscription; a drain gives its thread back
     * after 256 events). An executor that refuses a drain leaves the events waiting for the next one.
     */
    public Subscription subscribe(String task, long id, Consumer<TaskEvent> listener, Executor executor) {
        return events().subscribeTask(task, id, listener, Objects.requireNonNull(executor, "executor"));
    }

    /**
     * Delivers every event of every task of a kind until the subscription is closed; the listener
     * runs as for {@link #subscribe(String, long, Consumer)} (on the client's own virtual threads,
     * in order, a slow listener's oldest waiting events dropped past 10,000). Outside a Cluster it
     * subscribes to the pattern of the kind's task channels (a restricted ACL user needs the pattern
     * itself among its channel rules: Redis compares patterns literally); a partitioned kind is
     * followed with two patterns, {@code taskpool:{T}:events:*} and {@code taskpool:{T~*}:events:*}
     * (its partitions 1 and up, those made later too), into the one listener. In a Cluster it
     * subscribes to the kind's events channel of each partition, shard channels (sharded pub/sub has
     * no patterns; a partition made after the subscription is not followed by it). A partition's
     * name ({@code T~2}) follows that partition alone.
     */
    public Subscription subscribeAll(String task, Consumer<TaskEvent> listener) {
        return events().subscribeKind(task, listener, null);
    }

    /** As {@link #subscribeAll(String, Consumer)}, calling the listener through {@code executor}. */
    public Subscription subscribeAll(String task, Consumer<TaskEvent> listener, Executor executor) {
        return events().subscribeKind(task, listener, Objects.requireNonNull(executor, "executor"));
    }

    private EventHub events() {
        EventHub hub = events;
        if (hub == null) {
            synchronized (this) {
                if (events == null) {
                    events = new EventHub(redis, reads, store.layouts());
                }
                hub = events;
            }
        }
        return hub;
    }

    @Override
    public void close() {
        try {
            if (events != null) {
                events.close();
            }
        } finally {
            redis.close();
        }
    }
}
