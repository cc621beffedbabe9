package dev.taskpool.worker.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.Subscription;
import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.EveryKindEvents;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.LocalRedisCluster;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.DocumentedAclRules;
import dev.taskpool.worker.EmbeddedWorker;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.process.ProcessRegistry;
import io.lettuce.core.cluster.SlotHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * taskpool on a real Redis Cluster (3 masters, 3 replicas, redis-server processes on loopback):
 * the seed example from one node's URL, events across nodes, scripts on nodes that do not know
 * them, and three failovers under load (several task kinds on at least two masters, two producers,
 * two workers): a planned one (CLUSTER FAILOVER on a replica), a master killed with kill -9, and a
 * master frozen (SIGSTOP) for longer than the node timeout. Each prints what it counted.
 */
class ClusterTest {
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(2);
    private static final String PROCESS = "models.load.work";
    private static LocalRedisCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void startCluster() {
        cluster = LocalRedisCluster.start(3, NODE_TIMEOUT);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theSeedExampleRunsOnTheClusterFromOneNodesUrl() {
        Path app = TestApp.copyOfExample("seed", dir).dir();
        try (Harness worker = Harness.open(app, new ProcessRegistry(), cluster.uri())) {
            assertTrue(worker.redis.isCluster(), "one node's URL of a Cluster node connects to the Cluster");
            worker.startWorker();
            long id;
            try (Harness run = Harness.open(app, new ProcessRegistry(), cluster.nodes().get(4).uri())) {
                id = ((Number) run.call("tasks.example.add", "任务-1")).longValue();
            }
            assertEquals(1025, id, "the seed's first id");
            assertEquals(TaskStatus.SUCCESS, worker.await("example", id).status());
        }
    }

    @Test
    void eventsReachASubscriberFromEveryMasterAndScriptsRunOnNodesThatDoNotKnowThem() {
        List<String> kinds = kindsOnEveryMaster("events");
        TestApp app = TestApp.in(dir);
        kinds.forEach(kind -> app.task(kind, 2, 1, 0, 30, 1000, PROCESS, ""));
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> args.getFirst());
        try (Harness harness = Harness.open(app.dir(), registry, cluster.seedsUri())) {
            harness.startWorker();
            Map<String, Set<String>> seen = new ConcurrentHashMap<>();
            List<AutoCloseable> subscriptions = new ArrayList<>();
            for (String kind : kinds) {
                subscriptions.add(harness.client.subscribeAll(kind, event -> {
                    if (TaskEvent.SUCCESS.equals(event.event())) {
                        seen.computeIfAbsent(kind, k -> ConcurrentHashMap.newKeySet()).add(String.valueOf(event.id()));
                    }
                }));
            }
            // A promoted replica or a new node has no script cached: taskpool must send it by EVAL.
            for (LocalRedis node : cluster.nodes()) {
                cluster.cli(node, "SCRIPT", "FLUSH");
            }
            for (String kind : kinds) {
                long id = harness.client.add(kind, "hello " + kind).id();
                TaskInfo done = harness.await(kind, id);
                assertEquals(TaskStatus.SUCCESS, done.status(), kind + " #" + id);
            }
            Wait.until("a success event of each kind " + kinds + ", whose slots are on three masters, through one"
                    + " pub/sub connection", Duration.ofSeconds(60), () -> kinds.stream().allMatch(seen::containsKey));
            for (AutoCloseable subscription : subscriptions) {
                try {
                    subscription.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /**
     * What a worker or client ACL user needs on a Cluster beyond the standalone rules of docs/acl.md, as
     * Lettuce 7 uses them: its topology refresh opens a connection to each node, names it (CLIENT
     * SETNAME lettuce#ClusterTopologyRefresh) and reads CLUSTER NODES and INFO (the node's client
     * count); a pub/sub connection asks its node's id (CLUSTER MYID). Without CLUSTER NODES no
     * connection starts; without the others every refresh leaves entries in ACL LOG. Events are
     * sharded pub/sub there: the scripts ask PUBSUB SHARDNUMSUB and SPUBLISH, subscribers SSUBSCRIBE.
     */
    static final String CLUSTER_ACL_RULES = " +cluster|nodes +cluster|myid +client|setname +spublish +pubsub|shardnumsub"
            + " +ssubscribe +sunsubscribe";

    /**
     * The ACL users of docs/acl.md on the Cluster: users are per node, so they are created on every node;
     * a worker and a client connect as them through one node's URL and run tasks of a kind on each
     * master end to end (a failed run and its retry, batch adds, get, events), while an operator
     * follows every kind's events and control channels (as watch and the dashboard do) and pauses
     * and resumes each kind. Any command the rules
     * deny on any node (Lettuce's topology reads included) fails the test through that node's ACL LOG.
     */
    @Test
    void aWorkerAndAClientRunAsTheReadmesAclUsersWithTheClusterRules() {
        List<String> kinds = kindsOnEveryMaster("acl");
        TestApp app = TestApp.in(dir);
        kinds.forEach(kind -> app.task(kind, 2, 2, 0, 5, 100, PROCESS, ""));
        DocumentedAclRules readme = DocumentedAclRules.read();
        setUserOnEveryNode("taskpool-worker", "worker-secret", readme.of("taskpool-worker") + CLUSTER_ACL_RULES);
        setUserOnEveryNode("taskpool-client", "client-secret",
                readme.of("taskpool-client", kinds.toArray(String[]::new)) + CLUSTER_ACL_RULES);
        setUserOnEveryNode("taskpool-operator", "operator-secret", readme.of("taskpool-operator") + CLUSTER_ACL_RULES + " +info");
        assertTrue(aclPage().contains(CLUSTER_ACL_RULES.trim() + "` to each (and `+info` to `taskpool-operator`'s"),
                "docs/acl.md gives the Cluster's rules: " + CLUSTER_ACL_RULES + ", and +info for the operator");
        for (LocalRedis node : cluster.nodes()) {
            cluster.cli(node, "ACL", "LOG", "RESET");
        }
        AtomicLong calls = new AtomicLong();
        Set<String> failedOnce = ConcurrentHashMap.newKeySet();
        Map<String, Integer> events = new ConcurrentHashMap<>();
        Map<String, Integer> operatorEvents = new ConcurrentHashMap<>();
        Map<String, Integer> controls = new ConcurrentHashMap<>();
        List<Subscription> subscriptions = new ArrayList<>();
        try (EmbeddedWorker worker = EmbeddedWorker.builder(aclUrl("taskpool-worker", "worker-secret"), app.dir())
                     .process(PROCESS, args -> {
                         calls.incrementAndGet();
                         String argument = (String) args.get(1);
                         if (failedOnce.add(argument)) {
                             throw new IllegalStateException("the first run of each task fails, so the retry path runs too");
                         }
                         return Map.of("echo", argument);
                     })
                     .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                     .start();
             TaskpoolClient client = TaskpoolClient.connect(aclUrl("taskpool-client", "client-secret"));
             RedisConnector operator = RedisConnector.connect(aclUrl("taskpool-operator", "operator-secret"));
             // what `taskpool watch` and the dashboard follow: each kind's events and control channels
             EveryKindEvents view = EveryKindEvents.follow(operator, (kind, channel, message) ->
                     (EveryKindEvents.isControl(channel) ? controls : operatorEvents).merge(kind, 1, Integer::sum))) {
            for (String kind : kinds) {
                subscriptions.add(client.subscribeAll(kind, event -> events.merge(kind, 1, Integer::sum)));
            }
            for (String kind : kinds) {
                long first = client.add(kind, kind + " one").id();
                long second = client.addAll(kind, List.of(List.of(kind + " two"))).getFirst();
                for (long id : List.of(first, second)) {
                    TaskInfo done = client.await(kind, id, Duration.ofSeconds(30));
                    assertEquals(TaskStatus.SUCCESS, done.status(), kind + " #" + id + " as the ACL users on the Cluster: " + done);
                }
                assertTrue(client.get(kind, first).orElseThrow().attempt() >= 1, "get works as the client user");
            }
            Wait.until("events of every kind " + kinds + " to reach the client user's and the operator user's subscriptions",
                    Duration.ofSeconds(60), () -> kinds.stream().allMatch(kind -> events.containsKey(kind)
                            && operatorEvents.containsKey(kind)));
            TaskOperations operations = new TaskOperations(operator);
            for (String kind : kinds) {
                operations.pause(kind, "ops");
                operations.resume(kind, "ops");
            }
            Wait.until("the pause and resume of every kind to reach the operator user's view", Duration.ofSeconds(60),
                    () -> kinds.stream().allMatch(kind -> controls.getOrDefault(kind, 0) >= 2));
            subscriptions.forEach(Subscription::close);
        }
        assertEquals(12, calls.get(), "two runs (one failed, one retried) of each of the six tasks");
        Map<String, String> denied = new LinkedHashMap<>();
        for (LocalRedis node : cluster.nodes()) {
            String log = cluster.cli(node, "ACL", "LOG").trim();
            if (!log.isEmpty()) {
                denied.put(node.toString(), log);
            }
        }
        assertEquals(Map.of(), denied, "commands the ACL rules of docs/acl.md (with the Cluster's) denied, by node (ACL LOG)");
    }

    private static String aclPage() {
        try {
            return Files.readString(Path.of("..", "docs", "acl.md")).replaceAll("\\s+", " ");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void setUserOnEveryNode(String name, String password, String rules) {
        for (LocalRedis node : cluster.nodes()) {
            List<String> args = new ArrayList<>(List.of("ACL", "SETUSER", name, "on", ">" + password));
            args.addAll(List.of(rules.trim().split(" +")));
            assertEquals("OK", cluster.cli(node, args.toArray(String[]::new)).trim(), "ACL SETUSER " + name + " on " + node);
        }
    }

    private static String aclUrl(String user, String password) {
        return cluster.uri().replace("redis://", "redis://" + user + ":" + password + "@");
    }

    @Test
    void aPlannedFailoverLosesNothing() {
        Tally tally = underLoad("planned", (victim, struck) -> {
            LocalRedis replica = cluster.replicaOf(victim);
            cluster.cli(replica, "CLUSTER", "FAILOVER");
            struck.run();
            Wait.until(replica + " to become a master", Duration.ofSeconds(60),
                    () -> cluster.cli(replica, "ROLE").startsWith("master"));
        });
        assertEquals(0, tally.lost, "a planned failover loses no acknowledged task: " + tally);
        assertEquals(0, tally.reused, "and hands out no id twice: " + tally);
        assertEquals(tally.added, tally.succeeded, "every acknowledged task succeeds: " + tally);
    }

    @Test
    void aMasterKilledWithKill9IsReplacedByItsReplica() {
        Tally tally = underLoad("killed", (victim, struck) -> {
            victim.kill();
            struck.run();
            Wait.until("the replica of the killed " + victim + " to take over", Duration.ofSeconds(60),
                    () -> !cluster.masters().contains(victim));
        }, victim -> {
            victim.restart();   // it comes back empty and joins as a replica of the promoted node
        });
        assertEquals(tally.added - tally.lost, tally.succeeded, "whatever was not lost succeeds: " + tally);
    }

    @Test
    void aMasterFrozenLongerThanTheNodeTimeoutIsReplacedByItsReplica() {
        Tally tally = underLoad("frozen", (victim, struck) -> {
            victim.pause();
            struck.run();
            try {
                Wait.until("the replica of the frozen " + victim + " to take over", Duration.ofSeconds(60),
                        () -> !cluster.masters().contains(victim));
            } finally {
                victim.resume();   // it wakes up as a master, learns it is not, and becomes a replica
            }
        });
        assertEquals(tally.added - tally.lost, tally.succeeded, "whatever was not lost succeeds: " + tally);
    }

    /** What one failover did to the tasks that producers had added (acknowledged) around it. */
    record Tally(String name, long added, long unacknowledged, long succeeded, long lost, long reused, long stuck,
                 long runningWithoutLease, long extraRuns, long resumedAfterMillis) {
        @Override
        public String toString() {
            return name + ": added (acknowledged) " + added + ", SUCCESS " + succeeded + ", lost " + lost
                    + " (of which ids handed out twice " + reused + "), stuck " + stuck + ", RUNNING without a lease "
                    + runningWithoutLease + ", extra runs " + extraRuns + ", adds not acknowledged " + unacknowledged
                    + ", work resumed " + resumedAfterMillis + " ms after the fault";
        }
    }

    private interface Fault {
        /** Strikes {@code victim}, calls {@code struck} the moment the fault is in place, then waits for the takeover. */
        void inject(LocalRedis victim, Runnable struck);
    }

    private interface Repair {
        void repair(LocalRedis victim);
    }

    private Tally underLoad(String name, Fault fault) {
        return underLoad(name, fault, victim -> { });
    }

    /**
     * Two producers add to three kinds (one per master) and a fourth spread over all three
     * ({@code partitions: 3}) while two workers run them; the fault hits the master of the first
     * kind (and a partition of the fourth) after a second of load; load goes on until that kind works
     * again and a little longer; then every acknowledged task is looked up.
     */
    private Tally underLoad(String name, Fault fault, Repair repair) {
        List<String> kinds = new ArrayList<>(kindsOnEveryMaster(name));
        String victimKind = kinds.getFirst();
        // A fourth kind spread over the three masters: the fault hits one of its partitions.
        String partitionedKind = victimKind + "-p3";
        kinds.add(partitionedKind);
        LocalRedis victim = cluster.masterOf(SlotHash.getSlot(Keys.of(victimKind).waiting()));
        TestApp app = TestApp.in(dir);
        kinds.forEach(kind -> app.task(kind, 4, 3, 0, 30, 1_000_000, PROCESS,
                kind.equals(partitionedKind) ? "\"partitions\": 3" : ""));
        Map<String, AtomicLong> runs = new ConcurrentHashMap<>();
        Map<String, Long> firstRunAt = new ConcurrentHashMap<>();
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> {
            String token = (String) args.get(1);   // (the task id, then the add's arguments)
            runs.computeIfAbsent(token, t -> new AtomicLong()).incrementAndGet();
            firstRunAt.putIfAbsent(token, System.nanoTime());
            sleep(3);
            return token;
        });
        // token -> id, and when its add was sent
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        Map<String, Long> addSentAt = new ConcurrentHashMap<>();
        AtomicLong unacknowledged = new AtomicLong();
        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicLong faultAt = new AtomicLong(Long.MAX_VALUE);
        try (Harness one = Harness.open(app.dir(), registry, cluster.uri());
             Harness two = Harness.open(app.dir(), registry, cluster.seedsUri())) {
            one.startWorker(Harness.FAST.withWorkerId(name + "-one"));
            two.startWorker(Harness.FAST.withWorkerId(name + "-two"));
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                Harness via = p == 0 ? one : two;
                String producer = "p" + p;
                producers.add(Thread.ofPlatform().name("producer-" + p).start(() -> {
                    long seq = 0;
                    while (producing.get()) {
                        for (String kind : kinds) {
                            String token = kind + ":" + producer + ":" + seq;
                            addSentAt.put(token, System.nanoTime());
                            try {
                                acknowledged.put(token, via.client.add(kind, token).id());
                            } catch (RuntimeException e) {
                                unacknowledged.incrementAndGet();
                            }
                        }
                        seq++;
                        sleep(4);
                    }
                }));
            }
            sleep(1500);
            fault.inject(victim, () -> faultAt.set(System.nanoTime()));
            Wait.until("a task of " + victimKind + " added after the fault to run", Duration.ofSeconds(60),
                    () -> firstRunAfter(victimKind, faultAt.get(), addSentAt, firstRunAt) > 0);
            sleep(1000);
            producing.set(false);
            for (Thread producer : producers) {
                join(producer);
            }
            repair.repair(victim);
            // Let everything acknowledged end (or be known lost) before counting.
            long drainUntil = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < drainUntil && !allSettled(one, acknowledged)) {
                sleep(100);
            }
            Tally tally = tally(name, one, acknowledged, unacknowledged.get(), runs,
                    firstRunAfter(victimKind, faultAt.get(), addSentAt, firstRunAt) - faultAt.get());
            System.out.println("[cluster failover] " + tally + "; kinds " + kinds + ", victim " + victim);
            assertEquals(0, tally.stuck, "no acknowledged task is stuck: " + tally);
            assertEquals(0, tally.runningWithoutLease, "no task is RUNNING without a lease: " + tally);
            assertTrue(tally.added > 100, "the producers added under load: " + tally);
            return tally;
        } finally {
            producing.set(false);
            cluster.awaitHealthy(Duration.ofSeconds(60));
        }
    }

    /** When the first task of {@code kind} whose add was sent after the fault started to run; 0 if none has. */
    private static long firstRunAfter(String kind, long faultAt, Map<String, Long> addSentAt, Map<String, Long> firstRunAt) {
        long first = Long.MAX_VALUE;
        for (var entry : addSentAt.entrySet()) {
            Long ranAt = firstRunAt.get(entry.getKey());
            if (entry.getKey().startsWith(kind + ":") && entry.getValue() > faultAt && ranAt != null) {
                first = Math.min(first, ranAt);
            }
        }
        return first == Long.MAX_VALUE ? 0 : first;
    }

    /** Every acknowledged task has ended, or its record is gone or belongs to another add (lost). */
    private static boolean allSettled(Harness harness, Map<String, Long> acknowledged) {
        try {
            for (var entry : acknowledged.entrySet()) {
                Map<String, String> hash = record(harness, entry.getKey(), entry.getValue());
                if (hash.isEmpty() || !ownedBy(hash, entry.getKey())) {
                    continue;
                }
                String status = hash.get("status");
                if (!"SUCCESS".equals(status) && !"FAILURE".equals(status)) {
                    return false;
                }
            }
            return true;
        } catch (RuntimeException e) {
            return false;   // the Cluster is still settling
        }
    }

    private static Tally tally(String name, Harness harness, Map<String, Long> acknowledged, long unacknowledged,
                               Map<String, AtomicLong> runs, long resumedNanos) {
        long succeeded = 0;
        long lost = 0;
        long reused = 0;
        long stuck = 0;
        long runningWithoutLease = 0;
        long extraRuns = 0;
        for (var entry : acknowledged.entrySet()) {
            String token = entry.getKey();
            Map<String, String> hash = record(harness, token, entry.getValue());
            AtomicLong ran = runs.get(token);
            extraRuns += ran == null ? 0 : Math.max(0, ran.get() - 1);
            if (hash.isEmpty()) {
                lost++;
            } else if (!ownedBy(hash, token)) {
                lost++;
                reused++;
            } else if ("SUCCESS".equals(hash.get("status"))) {
                succeeded++;
            } else {
                stuck++;
                String kind = token.substring(0, token.indexOf(':'));
                if ("RUNNING".equals(hash.get("status"))
                        && harness.redis.sync().zscore(keysOf(harness, kind, entry.getValue()).leases(),
                        String.valueOf(entry.getValue())) == null) {
                    runningWithoutLease++;
                }
            }
        }
        return new Tally(name, acknowledged.size(), unacknowledged, succeeded, lost, reused, stuck, runningWithoutLease,
                extraRuns, Duration.ofNanos(resumedNanos).toMillis());
    }

    private static Map<String, String> record(Harness harness, String token, long id) {
        String kind = token.substring(0, token.indexOf(':'));
        return harness.redis.sync().hgetall(keysOf(harness, kind, id).task(id));
    }

    /** The keys of the partition that holds task {@code id} of {@code kind} (the kind's own for most). */
    private static Keys keysOf(Harness harness, String kind, long id) {
        return harness.runtime.adds().layouts().of(kind).ofId(id);
    }

    /** Whether the task record holds this add's arguments (not those of a later add given the same id). */
    private static boolean ownedBy(Map<String, String> hash, String token) {
        return hash.getOrDefault("args", "").contains("\"" + token + "\"");
    }

    /** One kind per master: names whose hash tag lands on each master in turn. */
    private static List<String> kindsOnEveryMaster(String prefix) {
        Map<LocalRedis, String> byMaster = new LinkedHashMap<>();
        List<LocalRedis> masters = cluster.masters();
        String run = Long.toString(System.nanoTime(), 36);
        for (int i = 0; byMaster.size() < masters.size() && i < 10_000; i++) {
            String kind = prefix + "-" + run + "-" + i;
            byMaster.putIfAbsent(cluster.masterOf(SlotHash.getSlot(Keys.of(kind).waiting())), kind);
        }
        assertEquals(masters.size(), byMaster.size(), "found a kind for each master");
        return List.copyOf(byMaster.values());
    }

    private static void join(Thread thread) {
        try {
            thread.join(Duration.ofSeconds(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        if (thread.isAlive()) {
            throw new AssertionError(thread.getName() + " did not stop within 60 s");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
