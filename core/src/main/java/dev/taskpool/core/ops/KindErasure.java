package dev.taskpool.core.ops;

import dev.taskpool.core.lua.Keys;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.List;

/**
 * Deletes every key of a kind ({@code taskpool:{T}:*}, and {@code taskpool:{T~k}:*} of each of its
 * partitions, found by SCAN on every master) and takes the kind off {@code taskpool:tasks}: the
 * benchmark's clean-up between runs. Not atomic, and meant for a kind nothing serves or adds to any more.
 */
final class KindErasure {
    /** Keys one SCAN step asks for (and one UNLINK deletes). */
    private static final int PAGE = 5000;

    private KindErasure() {
    }

    /** @param partitions the kind's partitions (its layout's, partition 0 last: its definition names the others) */
    static void erase(RedisClusterCommands<String, String> redis, String task, List<Keys> partitions) {
        for (Keys keys : partitions.reversed()) {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches(keys.keysPattern()).limit(PAGE));
                if (!page.getKeys().isEmpty()) {
                    redis.unlink(page.getKeys().toArray(String[]::new));
                }
                cursor = page;
            } while (!cursor.isFinished());
        }
        redis.srem(Keys.TASK_REGISTRY, task);
    }
}
