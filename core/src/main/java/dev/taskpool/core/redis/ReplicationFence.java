package dev.taskpool.core.redis;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Holds an add's answer back until a replica of the master that applied it has it too, so that a
 * failover cannot hand out an id twice: the counter's increment travels with the add, and an id
 * reaches the caller only once a replica that can be promoted holds it. An add that no replica
 * acknowledged in time counts as not answered, and {@link AddSender} sends it again (the request
 * id makes that safe); after a failover that lost it, the re-send adds it afresh on the new master.
 *
 * <p>WAIT counts the writes made on the connection it is sent on, so it goes to the connection
 * that carried the add. Adds that finish while a WAIT is out share the next one, so concurrent
 * adds cost one WAIT per round trip to the replica, not one each. A master without replicas (as
 * last seen: every 5 s by INFO replication, or from a Cluster's topology) is not waited for.
 */
final class ReplicationFence {
    private static final Logger LOG = Logger.getLogger(ReplicationFence.class.getName());
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

    /**
     * @param waitFor how long one WAIT may take before the add is treated as not answered (kept
     *                below the command timeout, so Lettuce never times the WAIT out itself)
     */
    ReplicationFence(RedisConnector redis, Duration waitFor, boolean enabled) {
        this.redis = redis;
        this.waitMillis = Math.max(1, Math.min(waitFor.toMillis(), redis.commandTimeout().toMillis() / 2));
        this.enabled = enabled;
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
        throw new dev.taskpool.core.TaskpoolException("TASKPOOL_REPLICA_ACK must be on or off, got '" + value + "'");
    }

    long waitMillis() {
        return waitMillis;
    }

    /**
     * Completes with {@code true} once the writes this client made to the master of {@code key}'s
     * slot are on at least one replica, or at once when that master has no replica to wait for;
     * {@code false} when none acknowledged them within the wait.
     */
    CompletableFuture<Boolean> afterWrites(String key) {
        if (!enabled) {
            return CompletableFuture.completedFuture(true);
        }
        int replicas = redis.isCluster() ? redis.clusterReplicasOf(key) : standaloneReplicas();
        if (replicas <= 0) {
            return CompletableFuture.completedFuture(true);
        }
        return redis.writerOf(key).thenCompose(writer ->
                byConnection.computeIfAbsent(writer, Coalescer::new).next()).thenApply(acked -> acked >= 1);
    }

    /** The standalone (or Sentinel-chosen) master's connected replicas, re-read in the background every few seconds. */
    private int standaloneReplicas() {
        long now = System.nanoTime();
        long checkedAt = standaloneCheckedAt;
        if (checkedAt == Long.MIN_VALUE || now - checkedAt > REPLICA_CHECK_PERIOD.toNanos()) {
            standaloneCheckedAt = now;
            CompletableFuture<Integer> check = redis.async().info("replication").toCompletableFuture()
                    .thenApply(ReplicationFence::connectedReplicas)
                    .whenComplete((count, error) -> {
                        if (error == null) {
                            standaloneReplicas = count;
                        } else if (!infoRefusedLogged) {
                            infoRefusedLogged = true;
                            LOG.log(Level.WARNING, "cannot tell whether Redis at " + redis.describe() + " has replicas"
                                    + " (INFO replication failed: " + RedisConnector.rootMessage(error) + "); adds are"
                                    + " acknowledged without waiting for a replica until it answers (allow +info for"
                                    + " this user, or set TASKPOOL_REPLICA_ACK=off to silence this)");
                        }
                    });
            if (checkedAt == Long.MIN_VALUE) {
                // the first add waits for the answer: an id must not go out unfenced on a master with replicas
                try {
                    return check.get(redis.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return standaloneReplicas;
                } catch (Exception e) {
                    return standaloneReplicas;
                }
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
