package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator cancels a running task and retries it at once (the dashboard's Cancel then Retry),
 * many times against one live worker: every retried task must run again and finish, its cancel's
 * {@code error} handler must run once with the cancel's text, and nothing may end "lease expired".
 * The re-fetched run used to carry the canceled run's lease token (the token was
 * {@code <worker>/<attempt>}, and a retry resets the attempt), so a late cancel message, or the
 * worker's memory of recent cancels, stopped the new run too.
 */
class CancelThenRetryTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final int PAIRS = 100;
    private static final int LANES = 4;
    /** Short leases, as the tests of the command line use: a lost run shows within seconds. */
    private static final WorkerSettings SHORT_LEASES = WorkerSettings.defaults()
            .withLease(Duration.ofSeconds(2), Duration.ofMillis(400))
            .withRecoverInterval(Duration.ofSeconds(1))
            .withShutdownGrace(Duration.ofSeconds(2));

    @TempDir
    Path dir;

    private static final String HANDLER = "function OnError(id, err) { Process('probe.error', id, err.message); }";

    @Test
    void everyTaskRetriedRightAfterItsCancelRunsAgainAndFinishes() throws Exception {
        String task = fixture.newTask("cancelretry");
        Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
        List<List<Object>> errorCalls = new CopyOnWriteArrayList<>();
        // The first run of a task holds its slot until it is stopped (the cancel); a later run ends
        // after a moment, long enough for a stray cancel to reach it while it runs.
        ProcessRegistry registry = new ProcessRegistry()
                .register("java.cancelretry.Work", args -> {
                    long id = ((Number) args.get(0)).longValue();
                    int run = runs.computeIfAbsent(id, any -> new AtomicInteger()).incrementAndGet();
                    try {
                        Thread.sleep(run == 1 ? LIMIT.toMillis() : 300);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException("stopped in run " + run, e);
                    }
                    return "done " + id + " in run " + run;
                })
                .register("probe.error", args -> errorCalls.add(List.copyOf(args)));
        // Slots to spare: a retried task is fetched the moment it waits again, racing its cancel's message.
        TestApp app = TestApp.in(dir).task(task, 2 * LANES, 0, 0, 120, 1000, "java.cancelretry.Work",
                "\"event\": {\"error\": \"scripts.handler.OnError\"}").script("handler", HANDLER);
        try (LogCapture log = new LogCapture(); Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker(SHORT_LEASES);
            TaskOperations operations = harness.client.operations();
            ExecutorService lanes = Executors.newFixedThreadPool(LANES);
            List<Long> ids = new ArrayList<>();
            try {
                List<Future<List<Long>>> laneIds = new ArrayList<>();
                for (int lane = 0; lane < LANES; lane++) {
                    laneIds.add(lanes.submit(() -> {
                        List<Long> laneTasks = new ArrayList<>();
                        for (int i = 0; i < PAIRS / LANES; i++) {
                            long id = harness.add(task, "pair");
                            Wait.until("task #" + id + " to start", LIMIT, () -> runs.containsKey(id));
                            operations.cancel(task, id, "op-" + id);
                            operations.retry(task, id, "op-" + id);
                            laneTasks.add(id);
                        }
                        return laneTasks;
                    }));
                }
                for (Future<List<Long>> lane : laneIds) {
                    ids.addAll(lane.get(3 * LIMIT.toSeconds(), TimeUnit.SECONDS));
                }
            } finally {
                lanes.shutdownNow();
            }

            // Every way a pair can go wrong is gathered first, so that one run of the test shows them all.
            List<String> problems = new ArrayList<>();
            for (long id : ids) {
                TaskInfo info = harness.client.await(task, id, LIMIT);
                if (info.status() != TaskStatus.SUCCESS) {
                    problems.add("#" + id + " ended " + info.status() + ": " + info.error());
                }
            }
            Wait.until("every cancel's error handler ran", LIMIT, () -> errorCalls.size() >= PAIRS);
            Map<Long, List<List<Object>>> handled = new ConcurrentHashMap<>();
            for (List<Object> call : errorCalls) {
                handled.computeIfAbsent(((Number) call.get(0)).longValue(), any -> new ArrayList<>()).add(call);
            }
            for (long id : ids) {
                List<List<Object>> calls = handled.getOrDefault(id, List.of());
                if (!calls.equals(List.of(List.of(id, "canceled by op-" + id)))) {
                    problems.add("#" + id + ": error handler calls " + calls + ", expected one with 'canceled by op-" + id + "'");
                }
            }
            long recovered = operations.stats(task).recovered();
            if (recovered != 0) {
                problems.add(recovered + " run(s) lost to an expired lease and recovered");
            }
            log.lines().stream().filter(line -> line.contains("lease expired") || line.contains("recovered it"))
                    .forEach(line -> problems.add("logged: " + line));
            assertEquals(List.of(), problems, "every retried task runs again and succeeds; each cancel's error handler"
                    + " runs once, with who canceled it; no canceled run is taken for a recovered one");
        }
    }

    /** The first run of a task waits until it is stopped; its next run ends when the test says so. */
    private record Probe(ProcessRegistry registry, Map<Long, AtomicInteger> runs, CountDownLatch rerunStarted,
                         CountDownLatch finishRerun, AtomicBoolean rerunStopped, CountDownLatch canaryStopped) {
        static Probe of(String process) {
            Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
            CountDownLatch rerunStarted = new CountDownLatch(1);
            CountDownLatch finishRerun = new CountDownLatch(1);
            AtomicBoolean rerunStopped = new AtomicBoolean();
            CountDownLatch canaryStopped = new CountDownLatch(1);
            ProcessRegistry registry = new ProcessRegistry().register(process, args -> {
                long id = ((Number) args.get(0)).longValue();
                int run = runs.computeIfAbsent(id, any -> new AtomicInteger()).incrementAndGet();
                try {
                    if (run == 1) {
                        Thread.sleep(LIMIT.toMillis());
                        return "the first run was never stopped";
                    }
                    rerunStarted.countDown();
                    finishRerun.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
                    return "rerun done";
                } catch (InterruptedException e) {
                    if ("canary".equals(args.get(1))) {
                        canaryStopped.countDown();
                    } else if (run > 1) {
                        rerunStopped.set(true);
                    }
                    throw new IllegalStateException("stopped in run " + run, e);
                }
            });
            return new Probe(registry, runs, rerunStarted, finishRerun, rerunStopped, canaryStopped);
        }
    }

    /**
     * Pub/sub may deliver the cancel message late: after the operator's retry, when the task runs
     * again in the same worker. That message names the canceled run's lease; it must not stop the
     * new run. (Deterministic: the test delivers the same message again once the new run started,
     * then proves the worker handled it by canceling another task after it, on the same channel.)
     */
    @Test
    void aLateCancelMessageForTheCanceledRunLeavesTheRetriedRunAlone() throws Exception {
        String task = fixture.newTask("latecancel");
        Probe probe = Probe.of("java.latecancel.Work");
        TestApp app = TestApp.in(dir).task(task, 4, 0, 0, 120, 100, "java.latecancel.Work", "")
                .script("unused", "function Nothing() {}");
        // Long leases: here only the control messages stop runs, never the heartbeat.
        WorkerSettings settings = WorkerSettings.defaults().withLease(Duration.ofSeconds(120), Duration.ofSeconds(40))
                .withRecoverInterval(Duration.ofSeconds(60)).withShutdownGrace(Duration.ofSeconds(2));
        List<String> cancels = new CopyOnWriteArrayList<>();
        try (Harness harness = Harness.open(app.dir(), probe.registry())) {
            var subscription = harness.redis.newPubSubConnection();
            try {
                subscription.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String channel, String message) {
                        if (message.contains("\"event\":\"cancel\"")) {
                            cancels.add(message);
                        }
                    }
                });
                String control = Keys.of(task).control();
                subscription.sync().subscribe(control);
                harness.startWorker(settings);
                TaskOperations operations = harness.client.operations();
                long id = harness.add(task, "hold");
                long canary = harness.add(task, "canary");
                Wait.until("both first runs to start", LIMIT,
                        () -> probe.runs().containsKey(id) && probe.runs().containsKey(canary));

                operations.cancel(task, id, "ann");
                Wait.until("the cancel message", LIMIT, () -> !cancels.isEmpty());
                operations.retry(task, id, "ann");
                assertTrue(probe.rerunStarted().await(LIMIT.toSeconds(), TimeUnit.SECONDS), "the retried task runs again");
                assertEquals(2L, harness.redis.sync().publish(control, cancels.getFirst()),
                        "the late copy reached the worker (and this test)");
                operations.cancel(task, canary, "ann");
                assertTrue(probe.canaryStopped().await(LIMIT.toSeconds(), TimeUnit.SECONDS),
                        "the worker handled the control messages up to the canary's cancel");

                assertFalse(probe.rerunStopped().get(), "the cancel of the first run stopped the run after the retry");
                probe.finishRerun().countDown();
                TaskInfo done = harness.client.await(task, id, LIMIT);
                assertEquals(TaskStatus.SUCCESS, done.status(), "the retried task finished: " + done);
                assertEquals("\"rerun done\"", done.response().toString());
                assertEquals(1, done.attempt(), "an operator's retry still counts its runs from 1");
            } finally {
                subscription.close();
            }
        }
    }

    /**
     * A cancel message can be lost (pub/sub drops messages in a reconnect): the heartbeat then finds
     * the run's lease gone and stops it. The log must say an operator canceled it, not that another
     * worker recovered it.
     */
    @Test
    void aCanceledRunWhoseCancelMessageNeverCameIsLoggedAsCanceled() {
        String task = fixture.newTask("lostcancel");
        Probe probe = Probe.of("java.lostcancel.Work");
        TestApp app = TestApp.in(dir).task(task, 2, 0, 0, 120, 100, "java.lostcancel.Work", "")
                .script("unused", "function Nothing() {}");
        try (LogCapture log = new LogCapture(); Harness harness = Harness.open(app.dir(), probe.registry())) {
            Worker worker = harness.startWorker(SHORT_LEASES);
            long id = harness.add(task, "canary");   // (its first run counts down canaryStopped when stopped)
            Wait.until("the run to start", LIMIT, () -> probe.runs().containsKey(id));

            cancelWithoutMessage(harness, task, id, "ann");

            try {
                assertTrue(probe.canaryStopped().await(LIMIT.toSeconds(), TimeUnit.SECONDS), "the heartbeat stopped the run");
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            Wait.until("the stopped run to leave the worker", LIMIT, () -> worker.runningCount() == 0);
            // (The heartbeat logs once its stop order is given, which may be after the run stopped.)
            String canceled = "task " + task + " #" + id + ": canceled by ann (its lease is gone); stopping its run";
            Wait.until("the log to say who canceled it: «" + canceled + "»", LIMIT, () -> log.contains(canceled));
            assertFalse(log.contains("recovered it"), "nor that another worker recovered it: " + log.lines());
            TaskInfo info = harness.client.get(task, id).orElseThrow();
            assertEquals("canceled by ann", info.error(), "nothing the stopped run did was recorded");
        }
    }

    /** What an operator's cancel does in Redis, with its control message sent where no worker listens (lost). */
    private static void cancelWithoutMessage(Harness harness, String task, long id, String by) {
        Keys keys = Keys.of(task);
        new ScriptRunner(harness.redis.async()).run(LuaScript.CANCEL,
                new String[] {keys.task(id), keys.waiting(), keys.leases(), keys.failed(), keys.stats(),
                        keys.errorHandlersDue(), keys.wake(), keys.definition(), keys.delayed()},
                Long.toString(id), Long.toString(System.currentTimeMillis()), by, task, keys.events(id),
                keys.control() + ":lost").join();
    }
}
