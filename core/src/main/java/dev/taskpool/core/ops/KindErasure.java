package dev.taskpool.core.ops;

import dev.taskpool.core.lua.Keys;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;

/**
 * Deletes every key of a kind ({@code taskpool:{T}:*}, found by SCAN on every master) and takes the
 * kind off {@code taskpool:tasks}: the benchmark's clean-up between runs. Not atomic, and meant
 * for a kind nothing serves or adds to any more.
 */
final class KindErasure {
    /** Keys one SCAN step asks for (and one UNLINK deletes). */
    private static final int PAGE = 5000;

    private KindErasure() {
    }

    static void erase(RedisClusterCommands<String, String> redis, String task) {
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches("taskpool:{" + task + "}:*").limit(PAGE));
            if (!page.getKeys().isEmpty()) {
                redis.unlink(page.getKeys().toArray(String[]::new));
            }
            cursor = page;
        } while (!cursor.isFinished());
        redis.srem(Keys.TASK_REGISTRY, task);
    }
}
