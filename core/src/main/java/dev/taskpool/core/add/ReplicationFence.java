package dev.taskpool.core.add;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.ScriptRunner;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.netty.util.internal.ThreadExecutorMap;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds an add's answer back until a replica of the master that applied it has it too, so that a
 * failover cannot hand out an id twice: the counter's increment travels with the add, and an id
 * reaches the caller only once a replica that can be promoted holds it. An add that no replica
 * acknowledged in time counts as not answered, and {@link AddSender} sends it again (the request
 * id makes that safe); after a failover that lost it, the re-send adds it afresh on the new master.
 *
 * <p>WAIT counts the writes made on the connection it is sent on, and Redis holds back every
 * command sent after it on that connection until it answers; so adds that wait go over a
 * connection of their own (made when first needed), never the shared one a worker's pump uses,
 * and the WAIT follows them there. Adds that finish while a WAIT is out share the next one, so
 * concurrent adds cost one WAIT per round trip to the replica, not one each. A master without
 * replicas (as last seen: every 5 s by INFO replication, or from a Cluster's topology) is not
 * waited for, and its adds use the shared connection.
 */
final class ReplicationFence implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationFence.class);
    /** How often a standalone or Sentinel master is asked how many replicas it has. */
    static final Duration REPLICA_CHECK_PERIOD = Duration.ofSeconds(5);
    /** How long one WAIT may take: replication is normally well under a millisecond on one network. */
    static final Duration DEFAULT_WAIT = Duration.ofSeconds(1);

    private final RedisConnector redis;
    private final long waitMillis;
    private final boolean enabled;
    private final Map<RedisClusterAsyncCommands<String, String>, Coalescer> byConnection = new ConcurrentHashMap<>();
    private volatile int standaloneReplicas = -1;
    private volatile long standaloneCheckedAt = Long.MIN_VALUE;
    private volatile boolean infoRefusedLogged;
    private volatile boolean askAgain;
    private volatile CompletableFuture<Integer> firstCheck;
    private StatefulConnection<String, String> fenced;
    private ScriptRunner fencedScripts;
    private volatile boolean closed;

    /** Where an add goes: the runner to send it with, and whether its answer waits for a replica. */
    record Route(ScriptRunner scripts, boolean waits) {
    }

    /**
     * @param waitFor how long one WAIT may take before the add is treated as not answered (kept
     *                below the command timeout, so Lettuce never times the WAIT out itself)
     */
    ReplicationFence(RedisConnector redis, Duration waitFor, boolean enabled) {
        this.redis = redis;
        this.waitMillis = redis.timeouts().fenceWait(waitFor).toMillis();
        this.enabled = enabled;
    }

    /**
     * Whether this thread is one of the client's I/O threads (a Netty event loop), which must
     * never wait for Redis: the answer it would wait for can only arrive on such a thread. An
     * asynchronous add reaching the fence there with nothing known yet is handed to the re-send
     * loop, which runs on a thread of its own.
     */
    private static boolean onIoThread() {
        return ThreadExecutorMap.currentExecutor() != null;
    }

    private static TaskpoolException notOnIoThread(String what) {
        return new TaskpoolException(what + " is not known yet, and an I/O thread cannot wait for it");
    }

    /** The fence every add of this connection passes: one per connection, so that concurrent adds share WAITs. */
    static ReplicationFence of(RedisConnector redis) {
        return redis.shared(ReplicationFence.class, () -> new ReplicationFence(redis, DEFAULT_WAIT, enabledByEnvironment()));
    }

    /** Whether the fence is on, from {@code TASKPOOL_REPLICA_ACK} ({@code on}, the default, or {@code off}). */
    static boolean enabledByEnvironment() {
        String value = System.getenv("TASKPOOL_REPLICA_ACK");
        if (value == null || value.isBlank() || value.equalsIgnoreCase("on")) {
            return true;
        }
        if (value.equalsIgnoreCase("off")) {
            return false;
        }
        throw new TaskpoolException("TASKPOOL_REPLICA_ACK must be on or off, got '" + value + "'");
    }

    long waitMillis() {
        return waitMillis;
    }

    /**
     * Where an add of the kind whose keys share {@code key}'s slot goes: over the fenced connection
     * when that slot's master has a replica to wait for, else with {@code shared}.
     */
    Route route(String key, ScriptRunner shared) {
        if (!enabled) {
            return new Route(shared, false);
        }
        int replicas = redis.isCluster() ? redis.clusterReplicasOf(key) : standaloneReplicas();
        return replicas <= 0 ? new Route(shared, false) : new Route(fencedScripts(), true);
    }

    /**
     * Completes with {@code true} once the writes sent over {@code route} to the master of
     * {@code key}'s slot are on at least one replica (at once for a route that does not wait);
     * {@code false} when none acknowledged them within the wait.
     */
    CompletableFuture<Boolean> afterWrites(Route route, String key) {
        if (!route.waits()) {
            return CompletableFuture.completedFuture(true);
        }
        return RedisConnector.writerOf(fencedConnection(), key)
                .thenCompose(writer -> byConnection.computeIfAbsent(writer, Coalescer::new).next())
                .thenApply(acked -> {
                    if (acked < 1 && !redis.isCluster()) {
                        askAgain = true; // the replica may be gone: do not wait a whole period to find out
                    }
                    return acked >= 1;
                });
    }

    private synchronized ScriptRunner fencedScripts() {
        fencedConnection();
        return fencedScripts;
    }

    private synchronized StatefulConnection<String, String> fencedConnection() {
        if (closed) {
            throw new TaskpoolException("the connection to Redis at " + redis.describe() + " is closed");
        }
        if (fenced == null) {
            if (onIoThread()) {
                throw notOnIoThread("the connection for adds that wait for a replica");
            }
            fenced = redis.newOwnConnection();
            fencedScripts = new ScriptRunner(RedisConnector.asyncOf(fenced));
        }
        return fenced;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (fenced != null) {
            fenced.close();
        }
    }

    /** The standalone (or Sentinel-chosen) master's connected replicas, re-read in the background every few seconds. */
    private int standaloneReplicas() {
        long now = System.nanoTime();
        long checkedAt = standaloneCheckedAt;
        if (checkedAt == Long.MIN_VALUE || askAgain || now - checkedAt > REPLICA_CHECK_PERIOD.toNanos()) {
            standaloneCheckedAt = now;
            askAgain = false;
            CompletableFuture<Integer> check = redis.async().info("replication").toCompletableFuture()
                    .thenApply(ReplicationFence::connectedReplicas)
                    .whenComplete((count, error) -> {
                        if (error == null) {
                            standaloneReplicas = count;
                        } else if (!infoRefusedLogged) {
                            infoRefusedLogged = true;
                            // (through the application's logging, as every other line: a user without +info
                            // sees this one line, not a java.util.logging record)
                            String why = AclRefusal.explain(error, redis.user(), null)
                                    .orElse("INFO replication failed: " + RedisConnector.rootMessage(error));
                            LOG.warn("cannot tell whether Redis at {} has replicas ({}); adds are acknowledged without"
                                    + " waiting for a replica until it answers (allow +info for this user, or set"
                                    + " TASKPOOL_REPLICA_ACK=off to silence this)", redis.describe(), why);
                        }
                    });
            if (checkedAt == Long.MIN_VALUE) {
                firstCheck = check;
            }
        }
        CompletableFuture<Integer> first = firstCheck;
        if (first != null && !first.isDone()) {
            // an add waits for the first answer: an id must not go out unfenced on a master with replicas
            if (onIoThread()) {
                throw notOnIoThread("whether Redis at " + redis.describe() + " has replicas");
            }
            try {
                first.get(redis.timeouts().replicaCheckWait().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                // logged by the check itself; the add goes on unfenced, as it would with INFO refused
            }
        }
        return standaloneReplicas;
    }

    static int connectedReplicas(String info) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("connected_slaves:")) {
                return Integer.parseInt(line.substring("connected_slaves:".length()).trim());
            }
        }
        return 0;
    }

    /**
     * One connection's WAITs: at most one out at a time; callers that come while one is out get
     * the next, which is sent when the current one answers and so covers every write made before.
     */
    private final class Coalescer {
        private final RedisClusterAsyncCommands<String, String> writer;
        private boolean waitOut;
        private CompletableFuture<Long> following;

        Coalescer(RedisClusterAsyncCommands<String, String> writer) {
            this.writer = writer;
        }

        synchronized CompletableFuture<Long> next() {
            if (!waitOut) {
                waitOut = true;
                return send();
            }
            if (following == null) {
                following = new CompletableFuture<>();
            }
            return following;
        }

        private CompletableFuture<Long> send() {
            CompletableFuture<Long> reply = writer.waitForReplication(1, waitMillis).toCompletableFuture();
            reply.whenComplete((acked, error) -> {
                CompletableFuture<Long> waiting;
                synchronized (this) {
                    waiting = following;
                    following = null;
                    if (waiting == null) {
                        waitOut = false;
                        return;
                    }
                }
                send().whenComplete((nextAcked, nextError) -> {
                    if (nextError != null) {
                        waiting.completeExceptionally(nextError);
                    } else {
                        waiting.complete(nextAcked);
                    }
                });
            });
            return reply;
        }
    }
}
