package dev.taskpool.core.testing;

import dev.taskpool.core.redis.Keys;
import dev.taskpool.core.redis.RedisConnector;
import dev.taskpool.support.TestRedis;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The Redis set-up most integration tests share, as a JUnit 5 extension: per test, a connection to
 * the test Redis ({@link TestRedis}: {@code TASKPOOL_TEST_REDIS_URL}, else a server it starts; a
 * test fails with the reason when there is none), a task kind no other test uses, and its
 * {@link Keys}. After the test (and after the class's own {@code @AfterEach}) it deletes every key
 * of the kinds it named and closes the connection.
 *
 * <pre>{@code
 * @RegisterExtension
 * final RedisFixture fixture = new RedisFixture("enqueue");
 * }</pre>
 * Registered on an instance field, so each test gets its own connection and kind. Lives in the core
 * module's test jar (the support module cannot see core's classes, as core's tests depend on it).
 */
public final class RedisFixture implements BeforeEachCallback, AfterEachCallback {
    private final String base;
    private final List<String> named = new ArrayList<>();
    private RedisConnector redis;
    private String task;

    /** {@code base} starts the task kind's name, so a leftover key tells which test wrote it. */
    public RedisFixture(String base) {
        this.base = base;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        redis = RedisConnector.connect(uri());
        task = otherTask(base);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (redis == null) {
            return;
        }
        try {
            deleteKeysOf(named);
        } finally {
            redis.close();
            redis = null;
        }
    }

    /** The test Redis's URI, for a second connection or a client of the test's own. */
    public String uri() {
        return TestRedis.uri();
    }

    /** The test's connection, open from before its {@code @BeforeEach} to after its {@code @AfterEach}. */
    public RedisConnector redis() {
        return redis;
    }

    /** Plain commands on {@link #redis()}, to read and write keys as redis-cli would. */
    public RedisClusterCommands<String, String> raw() {
        return redis.sync();
    }

    /** The test's own task kind (not yet published). */
    public String task() {
        return task;
    }

    /** The keys of {@link #task()}. */
    public Keys keys() {
        return Keys.of(task);
    }

    /** One more task kind no other test uses, cleaned up with the first. */
    public String otherTask(String base) {
        String name = TestRedis.uniqueTaskId(base);
        named.add(name);
        return name;
    }

    /** Every key of a kind starts with {@code taskpool:{kind}:} (see {@link Keys}). */
    private static String keyPattern(String kind) {
        return Keys.ROOT + "{" + kind + "}:*";
    }

    /** SCAN rather than KEYS: the suite's Redis holds many keys, and a test must not stall it. */
    private void deleteKeysOf(List<String> tasks) {
        RedisClusterCommands<String, String> sync = redis.sync();
        for (String kind : tasks) {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = sync.scan(cursor, ScanArgs.Builder.matches(keyPattern(kind)).limit(1000));
                if (!page.getKeys().isEmpty()) {
                    sync.unlink(page.getKeys().toArray(String[]::new));
                }
                cursor = page;
            } while (!cursor.isFinished());
            sync.srem(Keys.TASK_REGISTRY, kind);
        }
    }
}
