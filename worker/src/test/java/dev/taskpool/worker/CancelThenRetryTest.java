package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
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
        String task = TestRedis.uniqueTaskId("cancelretry");
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
            List<Future<List<Long>>> laneIds = new ArrayList<>();
            for (int lane = 0; lane < LANES; lane++) {
                laneIds.add(lanes.submit(() -> {
                    List<Long> ids = new ArrayList<>();
                    for (int i = 0; i < PAIRS / LANES; i++) {
                        long id = harness.add(task, "pair");
                        Wait.until("task #" + id + " to start", LIMIT, () -> runs.containsKey(id));
                        operations.cancel(task, id, "op-" + id);
                        operations.retry(task, id, "op-" + id);
                        ids.add(id);
                    }
                    return ids;
                }));
            }
            List<Long> ids = new ArrayList<>();
            for (Future<List<Long>> lane : laneIds) {
                ids.addAll(lane.get(3 * LIMIT.toSeconds(), TimeUnit.SECONDS));
            }
            lanes.shutdown();

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
}
