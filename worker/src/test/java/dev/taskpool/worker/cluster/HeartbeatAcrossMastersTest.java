package dev.taskpool.worker.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.SlotHash;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker serves two kinds whose keys live on two masters of a Cluster, and one master freezes
 * (SIGSTOP; its node timeout is long, so no replica takes over while the test looks). The frozen
 * kind's heartbeat waits for a command timeout (10 s), far past the 4 s lease; the other kind's
 * leases must still be extended on time, so that another worker never recovers its task and
 * runs it a second time.
 */
class HeartbeatAcrossMastersTest {
    private static final String PROCESS = "models.hold.work";
    private static final Duration LEASE = Duration.ofSeconds(4);
    private static final Duration HEARTBEAT = Duration.ofMillis(500);
    /** Long: the frozen master stays the master of its slots while the test looks. */
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aFrozenMasterDoesNotHoldUpTheHeartbeatOfKindsOnOtherMasters() {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3, NODE_TIMEOUT)) {
            List<LocalRedis> masters = cluster.masters();
            String frozenKind = kindOn(cluster, masters.get(0), "frozen");
            String healthyKind = kindOn(cluster, masters.get(1), "healthy");
            TestApp app = TestApp.in(dir)
                    .task(frozenKind, 1, 3, 0, 120, 100, PROCESS, "")
                    .task(healthyKind, 1, 3, 0, 120, 100, PROCESS, "");
            Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
            AtomicBoolean released = new AtomicBoolean();
            ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> {
                String kind = (String) args.get(1);   // (the task id, then the add's argument)
                runs.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
                while (!released.get()) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException("interrupted", e);
                    }
                }
                return kind;
            });
            try (Harness one = Harness.open(app.dir(), registry, cluster.uri());
                 Harness two = Harness.open(app.dir(), registry, cluster.seedsUri())) {
                // The frozen kind comes first: its heartbeat is the one the other waits behind.
                Worker first = new Worker(one.runtime, settings("one"), List.of(frozenKind, healthyKind)).start();
                long frozenId = one.client.add(frozenKind, frozenKind).id();
                long healthyId = one.client.add(healthyKind, healthyKind).id();
                Wait.until("both tasks to run on worker one", Duration.ofSeconds(30),
                        () -> runs.containsKey(frozenKind) && runs.containsKey(healthyKind));
                // A second worker of the healthy kind takes its task over should its lease lapse.
                Worker second = new Worker(two.runtime, settings("two"), List.of(healthyKind)).start();

                LocalRedis frozen = masters.get(0);
                long frozenAt = System.currentTimeMillis();
                frozen.pause();
                try {
                    // Three leases into the freeze, the healthy kind's lease is still being extended.
                    long past = frozenAt + 3 * LEASE.toMillis();
                    Wait.until("the lease of " + healthyKind + " #" + healthyId + " to be extended past three leases"
                            + " into the freeze of " + frozen, Duration.ofSeconds(60), () -> {
                                Double deadline = two.redis.sync().zscore(Keys.of(healthyKind).leases(), Long.toString(healthyId));
                                return deadline != null && deadline > past;
                            });
                    assertEquals(1, runs.get(healthyKind).get(), "the task of the healthy kind ran once: its lease never"
                            + " lapsed while the other kind's master was frozen");
                    assertEquals("one", workerOf(two, healthyKind, healthyId), "worker one still holds it");
                } finally {
                    frozen.resume();
                }
                released.set(true);
                Wait.until("the healthy kind's task to succeed", Duration.ofSeconds(30),
                        () -> "SUCCESS".equals(two.redis.sync().hget(Keys.of(healthyKind).task(healthyId), "status")));
                assertEquals(1, runs.get(healthyKind).get(), "the task of the healthy kind ran once in all");
                second.close();
                first.close();
                System.out.println("[heartbeat across masters] frozen " + frozenKind + " #" + frozenId + " on " + frozen
                        + ", healthy " + healthyKind + " #" + healthyId + ": runs " + runs);
            }
        }
    }

    private static WorkerSettings settings(String id) {
        return Harness.FAST.withWorkerId(id).withLease(LEASE, HEARTBEAT).withRecoverInterval(Duration.ofMillis(500))
                .withShutdownGrace(Duration.ofSeconds(1));
    }

    private static String workerOf(Harness harness, String kind, long id) {
        return harness.redis.sync().hget(Keys.of(kind).task(id), "worker");
    }

    /** A kind name whose keys (one hash tag) live on {@code master}. */
    private static String kindOn(LocalRedisCluster cluster, LocalRedis master, String prefix) {
        String run = Long.toString(System.nanoTime(), 36);
        for (int i = 0; i < 10_000; i++) {
            String kind = prefix + "-" + run + "-" + i;
            if (cluster.masterOf(SlotHash.getSlot(Keys.of(kind).waiting())).equals(master)) {
                return kind;
            }
        }
        throw new AssertionError("found no kind name whose keys live on " + master);
    }
}
