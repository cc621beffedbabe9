package dev.taskpool.worker.exec;

import dev.taskpool.core.Durations;
import dev.taskpool.core.connect.RedisFailures;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.worker.runtime.AppRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker process's task runner: one {@link TaskConsumer} per task it serves, a
 * {@link Heartbeat} for the leases it holds, a {@link Recoverer} for leases others lost and a
 * {@link ScheduleTicker} that fires the schedules due.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    /** How often run deadlines are checked: a run is stopped at most this long after its timeout. */
    static final Duration TIMEOUT_CHECK = Duration.ofMillis(20);

    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final Timeouts timeouts;
    /** Every partition of every kind served (the kind itself for most): grows when a kind gets more partitions. */
    private final List<TaskConsumer> consumers = new CopyOnWriteArrayList<>();
    /** The consumers of each kind served, by kind. */
    private final Map<String, List<TaskConsumer>> byKind = new ConcurrentHashMap<>();
    private final List<TaskDefinition> served = new ArrayList<>();
    /** Guards adding consumers apart from closing. */
    private final Object serving = new Object();
    private final ScheduledExecutorService timers;
    private final ScheduledExecutorService background;
    private final ExecutorService processors;
    private final Presence presence;
    private final ControlListener control;
    private final ScheduleTicker schedules;
    private final WorkerContext context;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** @param tasks the task ids to serve; empty serves every task of the app */
    public Worker(AppRuntime runtime, WorkerSettings settings, List<String> tasks) {
        this(runtime, settings, tasks, Map.of());
    }

    /**
     * @param tasks      the task ids to serve; empty serves every task of the app
     * @param workerNums runs at once in this worker by kind, in place of the definitions' {@code worker_nums}
     */
    public Worker(AppRuntime runtime, WorkerSettings settings, List<String> tasks, Map<String, Integer> workerNums) {
        this.runtime = runtime;
        this.settings = settings;
        this.timeouts = new Timeouts(runtime.redis().timeouts(), settings);
        for (String task : tasks) {
            served.add(runtime.definition(task).orElseThrow(() -> new IllegalArgumentException(
                    "unknown task '" + task + "' in the task list; the app has " + runtime.taskIds())));
        }
        if (tasks.isEmpty()) {
            served.addAll(runtime.definitions());
        }
        workerNums.forEach((kind, n) -> {
            int at = served.stream().map(TaskDefinition::id).toList().indexOf(kind);
            if (at < 0) {
                throw new IllegalArgumentException("worker_nums given for task '" + kind + "', which this worker does not"
                        + " run; it runs " + served.stream().map(TaskDefinition::id).toList());
            }
            served.set(at, served.get(at).withWorkerNums(n));
        });
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("run-timeouts").unstarted(r));
        this.background = Executors.newScheduledThreadPool(2, r -> Thread.ofPlatform().daemon().name("worker-background").unstarted(r));
        // Processors run on virtual threads: a run mostly waits (on Redis, on Sleep), and one that
        // ignores its interrupt can be abandoned without holding a platform thread.
        this.processors = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("processor-", 1).factory());
        this.context = new WorkerContext(settings, timers, processors);
        for (TaskDefinition definition : served) {
            List<TaskConsumer> ofKind = new CopyOnWriteArrayList<>();
            byKind.put(definition.id(), ofKind);
            addPartitions(definition, runtime.adds().layouts().fresh(definition.id()));
            runtime.metrics().serving(definition.id(), ofKind.stream().mapToInt(c -> c.definition().workerNums()).sum(),
                    () -> ofKind.stream().mapToInt(TaskConsumer::busySlots).sum());
        }
        this.presence = new Presence(runtime, settings, timeouts, served.stream().map(TaskDefinition::id).toList(),
                served.stream().mapToInt(TaskDefinition::workerNums).sum(), this::runningCount);
        this.control = new ControlListener(consumers);
        this.schedules = new ScheduleTicker(runtime);
    }

    /**
     * Makes a consumer for each partition of {@code layout} this worker does not serve yet (all of
     * them at the start), each with its share of {@code worker_nums} (at least 1): a partitioned
     * kind has one per partition. Returns the new ones.
     */
    private List<TaskConsumer> addPartitions(TaskDefinition definition, KindLayout layout) {
        List<TaskConsumer> ofKind = byKind.get(definition.id());
        List<TaskConsumer> added = new ArrayList<>();
        int count = layout.partitions().size();
        for (int k = ofKind.size(); k < count; k++) {
            TaskDefinition share = definition.withWorkerNums(TaskDefinition.share(definition.workerNums(), count, k));
            added.add(new TaskConsumer(share, layout.partitions().get(k), runtime, context));
        }
        ofKind.addAll(added);
        consumers.addAll(added);
        return added;
    }

    /**
     * Serves the partitions a kind gained since this worker started (another process published
     * its definition with a higher {@code partitions}): each kind's layout is looked at every
     * {@link KindLayouts#FRESH_FOR_MILLIS} ms, from this process's cache, read again in the background.
     */
    private void followLayouts() {
        for (TaskDefinition definition : served) {
            KindLayout layout;
            try {
                layout = runtime.adds().layouts().of(definition.id());
            } catch (RuntimeException e) {
                log.debug("task {}: cannot read its partitions now: {}", definition.id(), e.getMessage());
                continue;
            }
            synchronized (serving) {
                if (closed.get() || layout.partitions().size() <= byKind.get(definition.id()).size()) {
                    continue;
                }
                for (TaskConsumer consumer : addPartitions(definition, layout)) {
                    control.follow(consumer);
                    consumer.start();
                    log.info("worker {} serving {} x{} too (task {} has {} partitions now)", settings.workerId(),
                            consumer.partition(), consumer.definition().workerNums(), definition.id(), layout.partitions().size());
                }
            }
        }
    }

    /**
     * Starts taking tasks. A start that fails half-way (Redis refuses a task's connection) stops what
     * it had started, as {@link #close()} does, before it throws: nothing is left running.
     */
    public Worker start() {
        try {
            startEverything();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    private void startEverything() {
        presence.announce();
        control.start(runtime);
        consumers.forEach(TaskConsumer::start);
        schedules.start();
        // One check of every run's deadline every few milliseconds costs less than a timer per run
        // (which every run would set and cancel), and stops a run within that much of its timeout.
        timers.scheduleWithFixedDelay(() -> {
            long now = System.nanoTime();
            for (TaskConsumer consumer : consumers) {
                try {
                    consumer.checkTimeouts(now);
                } catch (RuntimeException e) {
                    // (an exception would end the periodic check for good)
                    log.error("task {}: checking run timeouts failed: {}", consumer.definition().id(), e.getMessage(), e);
                }
            }
        }, TIMEOUT_CHECK.toMillis(), TIMEOUT_CHECK.toMillis(), TimeUnit.MILLISECONDS);
        long heartbeat = settings.heartbeatInterval().toMillis();
        Heartbeat leases = new Heartbeat(consumers, runtime, settings, timeouts);
        // At a fixed rate: a beat waits for its answers at most until the next one is due, so a
        // node that does not answer never stretches the time between two beats of the others.
        background.scheduleAtFixedRate(() -> {
            leases.run();
            presence.announce();
        }, heartbeat, heartbeat, TimeUnit.MILLISECONDS);
        scheduleRecovery(new Recoverer(consumers, runtime, context));
        background.scheduleWithFixedDelay(() -> {
            try {
                followLayouts();
            } catch (RuntimeException e) {
                // (an exception would end the periodic look for good)
                log.error("following the kinds' partitions failed: {}", e.getMessage(), e);
            }
        }, KindLayouts.FRESH_FOR_MILLIS, KindLayouts.FRESH_FOR_MILLIS, TimeUnit.MILLISECONDS);
        log.info("worker {} serving {} on {}", settings.workerId(),
                consumers.stream().map(c -> c.partition() + " x" + c.definition().workerNums()).toList(),
                runtime.redis().describe());
    }

    /** Runs the recoverer at the set interval, jittered by ±20% so workers do not move in step. */
    private void scheduleRecovery(Recoverer recoverer) {
        long base = settings.recoverInterval().toMillis();
        long delay = (long) (base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
        background.schedule(() -> {
            if (closed.get()) {
                return;
            }
            recoverer.run();
            scheduleRecovery(recoverer);
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** The kinds this worker serves. */
    public List<String> taskIds() {
        return served.stream().map(TaskDefinition::id).toList();
    }

    public WorkerSettings settings() {
        return settings;
    }

    public int runningCount() {
        return consumers.stream().mapToInt(TaskConsumer::runningCount).sum();
    }

    /**
     * Graceful stop, in this order: take no new tasks; let running ones finish within the grace
     * period; interrupt the rest and hand them back to the queue (it is worse to lose a task than
     * to run it twice); then stop the heartbeat, which must outlive the runs it protects; last,
     * clear this worker's presence. Every step runs even when an earlier one fails.
     */
    @Override
    public void close() {
        synchronized (serving) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
        }
        log.info("worker {} stopping: no new tasks; {} running get {} to finish", settings.workerId(), runningCount(),
                Durations.text(settings.shutdownGrace()));
        step("stop firing schedules", schedules::close);
        for (TaskConsumer consumer : consumers) {
            step("stop fetching " + consumer.definition().id(), consumer::stopFetching);
        }
        long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
        for (TaskConsumer consumer : consumers) {
            step("wait for " + consumer.definition().id(), () -> {
                if (!consumer.awaitRuns(deadline)) {
                    consumer.handBackRunning(Timeouts.HAND_BACK_WAIT);
                }
            });
        }
        for (TaskConsumer consumer : consumers) {
            step("record the last results of " + consumer.definition().id(), consumer::stopPump);
        }
        step("stop listening to control messages", control::close);
        step("stop the heartbeat and recoverer", () -> {
            background.shutdownNow();
            background.awaitTermination(2, TimeUnit.SECONDS);
        });
        step("stop the run timers", timers::shutdownNow);
        step("stop the processor threads", () -> {
            processors.shutdownNow();
            processors.awaitTermination(2, TimeUnit.SECONDS);   // (a handler that ignores its interrupt is left behind)
        });
        step("clear this worker's presence", presence::clear);
        log.info("worker {} stopped", settings.workerId());
    }

    private interface Step {
        void run() throws Exception;
    }

    private void step(String what, Step step) {
        try {
            step.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.error("stop step '{}' interrupted", what);
        } catch (Exception e) {
            if (RedisFailures.fromRedis(e)) {
                // Redis away or refusing: expected in an outage, and a stack trace would say nothing more.
                log.error("stop step '{}' failed: {} (Redis at {})", what, e.getMessage(), runtime.redis().describe());
            } else {
                log.error("stop step '{}' failed: {}", what, e.getMessage(), e);
            }
        }
    }
}
