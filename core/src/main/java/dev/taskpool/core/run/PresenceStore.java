package dev.taskpool.core.run;

import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Redis writes of a worker's presence: its record {@code taskpool:worker:<id>} (JSON, expiring)
 * and its last-seen score in {@code taskpool:workers}. Each write has a twin through the presence
 * script (presence-1), which Redis runs when it is full and refuses SET and ZADD. One key per
 * command or script: these keys have no hash tag. The worker decides when to write and what to
 * say about failures; nothing here waits on Redis except {@link #clear}.
 */
public final class PresenceStore {
    /** How many dead workers one prune looks at, at most. */
    private static final int PRUNE_BATCH = 100;

    private final RedisConnector redis;
    private final ScriptRunner scripts;

    public PresenceStore(RedisConnector redis) {
        this.redis = redis;
        this.scripts = new ScriptRunner(redis.async());
    }

    /** SET the worker's record, expiring after {@code lifeMillis}. */
    public CompletableFuture<String> writeRecord(String workerId, String json, long lifeMillis) {
        return redis.async().set(Keys.worker(workerId), json, SetArgs.Builder.px(lifeMillis)).toCompletableFuture();
    }

    /** As {@link #writeRecord}, through the presence script (which a full Redis runs). */
    public CompletableFuture<List<Object>> writeRecordByScript(String workerId, String json, long lifeMillis) {
        return scripts.run(LuaScript.PRESENCE, new String[] {Keys.worker(workerId)},
                "record", json, Long.toString(lifeMillis));
    }

    /** ZADD the worker to {@code taskpool:workers}, seen at {@code now} (epoch ms). */
    public CompletableFuture<Long> markSeen(String workerId, long now) {
        return redis.async().zadd(Keys.WORKERS, now, workerId).toCompletableFuture();
    }

    /** As {@link #markSeen}, through the presence script (which a full Redis runs). */
    public CompletableFuture<List<Object>> markSeenByScript(String workerId, long now) {
        return scripts.run(LuaScript.PRESENCE, new String[] {Keys.WORKERS},
                "seen", Long.toString(now), workerId);
    }

    /**
     * Removes from {@code taskpool:workers} the workers last seen before {@code seenBefore} whose
     * record is indeed gone (they died without clearing their presence): a worker with a longer
     * lease than the caller's still has its record and stays.
     */
    public CompletableFuture<Void> pruneDead(long seenBefore) {
        RedisClusterAsyncCommands<String, String> commands = redis.async();
        return commands.zrangebyscore(Keys.WORKERS, Range.create(Double.NEGATIVE_INFINITY, (double) seenBefore),
                        Limit.create(0, PRUNE_BATCH))
                .toCompletableFuture()
                .thenCompose(stale -> CompletableFuture.allOf(stale.stream()
                        .map(worker -> commands.exists(Keys.worker(worker)).toCompletableFuture().thenCompose(alive -> alive > 0
                                ? CompletableFuture.completedFuture(0L)
                                : commands.zrem(Keys.WORKERS, worker).toCompletableFuture()))
                        .toArray(CompletableFuture[]::new)));
    }

    /** The workers last seen at {@code since} (epoch ms) or later, as {@code taskpool:workers} says; waits for Redis. */
    public List<String> seenSince(long since) {
        return redis.sync().zrangebyscore(Keys.WORKERS, Range.create((double) since, Double.MAX_VALUE));
    }

    /** Clears the worker's presence (a graceful stop); waits for Redis. */
    public void clear(String workerId) {
        // (async and awaited: a worker's connections need not build Lettuce's synchronous API for this)
        RedisCalls calls = new RedisCalls(redis);
        calls.await(redis.async().del(Keys.worker(workerId)).toCompletableFuture(), "clear the worker's presence");
        calls.await(redis.async().zrem(Keys.WORKERS, workerId).toCompletableFuture(), "clear the worker's presence");
    }
}
