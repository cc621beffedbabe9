package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.process.ProcessRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** How a worker process runs tasks: concurrency, context reuse, leases, idling, task selection. */
class WorkerBehaviourTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void workerNumsRunsThatManyAtOnceOnPooledContexts() {
        String task = fixture.newTask("parallel");
        AtomicInteger running = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        ProcessRegistry registry = new ProcessRegistry()
                .register("probe.enter", args -> peak.accumulateAndGet(running.incrementAndGet(), Math::max))
                .register("probe.leave", args -> running.decrementAndGet());
        TestApp app = TestApp.in(dir)
                .task(task, 3, 0, 0, 10, 1000, "scripts.par.Work", "")
                .script("par", """
                        function Work(id) {
                          Process('probe.enter');
                          Process('utils.time.Sleep', 60);
                          Process('probe.leave');
                          return id;
                        }
                        """);
        try (Harness harness = Harness.open(app.dir(), registry)) {
            harness.startWorker();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                ids.add(harness.add(task));
            }
            for (long id : ids) {
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status());
            }
            assertEquals(3, peak.get(), "worker_nums 3 means three runs at once, never more");
            int contexts = harness.runtime.scripts().contextsCreated();
            assertTrue(contexts <= 5, "30 runs on " + contexts + " contexts: contexts are reused, not made per task");
        }
    }

    @Test
    void theHeartbeatKeepsARunLongerThanItsLeaseAlive() {
        String task = fixture.newTask("longrun");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 30, 10, "scripts.lr.Work", "")
                .script("lr", "function Work(id) { Process('utils.time.Sleep', 3500); return 'ok'; }");
        try (Harness harness = Harness.open(app.dir())) {
            harness.startWorker(Harness.FAST.withLease(Duration.ofSeconds(2), Duration.ofMillis(400))
                    .withRecoverInterval(Duration.ofMillis(300)));
            long id = harness.add(task);
            TaskInfo info = harness.await(task, id);
            assertEquals(TaskStatus.SUCCESS, info.status());
            assertEquals(1, info.attempt(), "never recovered: the lease was extended while the run went on");
        }
    }

    @Test
    void anIdleWorkerBlocksOnRedisInsteadOfPolling() throws InterruptedException {
        String task = fixture.newTask("idle");
        TestApp app = TestApp.in(dir)
                .task(task, 4, 0, 0, 5, 10, "scripts.idle.Work", "")
                .script("idle", "function Work(id) { return id; }");
        try (Harness harness = Harness.open(app.dir())) {
            Worker worker = harness.startWorker();
            var sync = harness.redis.sync();
            Thread.sleep(300);
            long before = calls(sync.info("commandstats"), "rpop");
            Thread.sleep(3000);
            long fetches = calls(sync.info("commandstats"), "rpop") - before;
            // Each fetch pops once (RPOP inside the script). Blocked in BLPOP for 2 s at a time, an
            // idle worker fetches once or twice in 3 s; a polling one would fetch hundreds of times.
            assertTrue(fetches >= 1 && fetches <= 4, fetches + " fetches in 3 s of idling");
            long id = harness.add(task);
            assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status(), "an add wakes the blocked worker");
            RetryAndFailureTest.waitFor(() -> worker.runningCount() == 0);
            assertEquals(0, worker.runningCount(), "the run gave its slot back");
        }
    }

    private static long calls(String commandStats, String command) {
        return commandStats.lines().filter(line -> line.startsWith("cmdstat_" + command + ":")).findFirst()
                .map(line -> Long.parseLong(line.replaceAll("^cmdstat_[a-z]+:calls=(\\d+),.*", "$1"))).orElse(0L);
    }

    @Test
    void aWorkerServesOnlyTheTasksItIsGiven() {
        String served = fixture.newTask("served");
        String other = fixture.newTask("other");
        TestApp app = TestApp.in(dir)
                .task(served, 1, 0, 0, 5, 10, "scripts.sel.Work", "")
                .task(other, 1, 0, 0, 5, 10, "scripts.sel.Work", "")
                .script("sel", "function Work(id) { return id; }");
        try (Harness harness = Harness.open(app.dir())) {
            Worker worker = new Worker(harness.runtime, Harness.FAST, List.of(served)).start();
            try {
                long a = harness.add(served);
                long b = harness.add(other);
                assertEquals(TaskStatus.SUCCESS, harness.await(served, a).status());
                assertEquals(TaskStatus.WAITING, harness.client.get(other, b).orElseThrow().status());
            } finally {
                worker.close();
            }
        }
    }

    @Test
    void theThinClientRecordsProgressAndWatchesEvents() {
        String task = fixture.newTask("watched");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.w.Work", "")
                .script("w", "function Work(id) { Progress(id, 2, 2, 'done'); return 'ok'; }");
        try (Harness harness = Harness.open(app.dir())) {
            List<String> seen = new CopyOnWriteArrayList<>();
            try (var ignored = harness.client.subscribeAll(task, event -> seen.add(event.event() + "#" + event.id()))) {
                long id = harness.client.add(task, "x").id();
                harness.client.progress(task, id, 1, 10, "queued and noted");
                assertEquals("queued and noted", harness.client.get(task, id).orElseThrow().message());
                harness.startWorker();
                assertEquals(TaskStatus.SUCCESS, harness.await(task, id).status());
                RetryAndFailureTest.waitFor(() -> seen.contains("success#" + id));
                assertEquals(List.of("added#" + id, "progress#" + id, "started#" + id, "progress#" + id, "success#" + id), seen);
            }
        }
    }
}
