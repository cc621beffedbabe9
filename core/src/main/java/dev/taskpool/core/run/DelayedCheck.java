package dev.taskpool.core.run;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.LuaScript;
import dev.taskpool.core.lua.ScriptRunner;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The recoverer's check of a kind's delayed set: entries whose task is gone, is no task, or is not
 * WAITING are removed, one bounded window per call ({@code heal-delayed-2.lua}). The caller walks
 * the set by rank with the {@link Window#nextStart()} each call returns, and keeps that position
 * itself: nothing of the walk is stored in Redis, and two workers walking at once only check some
 * entries twice.
 */
public final class DelayedCheck {
    private final ScriptRunner scripts;

    public DelayedCheck(RedisConnector redis) {
        this.scripts = new ScriptRunner(redis.async());
    }

    /** What one call did: where the next starts (0: over again from the earliest), and the entries it removed, with why. */
    public record Window(long nextStart, List<RecoverResult.Dropped> removed) {
    }

    /** Checks up to {@code limit} entries of the delayed set of {@code task}, from rank {@code start}. */
    public CompletableFuture<Window> check(String task, long start, int limit) {
        Keys keys = Keys.of(task);
        return scripts.run(LuaScript.HEAL_DELAYED, new String[] {keys.delayed(), keys.taskPrefix()},
                Long.toString(start), Integer.toString(limit))
                .thenApply(reply -> {
                    List<RecoverResult.Dropped> removed = new ArrayList<>();
                    for (int i = 1; i + 1 < reply.size(); i += 2) {
                        removed.add(new RecoverResult.Dropped((String) reply.get(i), (String) reply.get(i + 1)));
                    }
                    return new Window((Long) reply.getFirst(), removed);
                });
    }
}
