package dev.taskpool.core.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one class that runs taskpool's Lua scripts: EVALSHA first, and EVAL (which also caches the
 * script in Redis) when Redis answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH.
 * Every script returns an array, read as a list of Strings, Longs and nested lists.
 */
public final class ScriptRunner {
    private final RedisClusterAsyncCommands<String, String> redis;
    private final AtomicLong calls = new AtomicLong();

    public ScriptRunner(RedisClusterAsyncCommands<String, String> redis) {
        this.redis = redis;
    }

    public CompletableFuture<List<Object>> run(LuaScript script, String[] keys, String... args) {
        calls.incrementAndGet();
        CompletableFuture<List<Object>> first = redis.<List<Object>>evalsha(script.sha(), ScriptOutputType.MULTI, keys, args)
                .toCompletableFuture();
        return first.exceptionallyCompose(error -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof RedisNoScriptException) {
                calls.incrementAndGet();
                return redis.<List<Object>>eval(script.source(), ScriptOutputType.MULTI, keys, args).toCompletableFuture();
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    /** How many script calls (round trips) this runner has made, for the benchmark. */
    public long calls() {
        return calls.get();
    }
}
