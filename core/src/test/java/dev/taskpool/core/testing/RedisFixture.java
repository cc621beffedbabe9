package dev.taskpool.core.testing;

import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.support.TestRedis;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The Redis set-up the integration tests share, as a JUnit 5 extension: per test, a connection to
 * the test Redis ({@link TestRedis}: {@code TASKPOOL_TEST_REDIS_URL}, else a server it starts; the
 * test fails with the reason when there is none), a task kind no other test uses, and its
 * {@link Keys}. After the test (after the class's own {@code @AfterEach}) it deletes every key of
 * the kinds it named, so the shared Redis does not fill up and no broken key outlives its test,
 * and closes the connection (a clean-up that fails is reported on stderr and fails no test).
 *
 * <pre>{@code
 * @RegisterExtension
 * final RedisFixture fixture = new RedisFixture("enqueue");
 * }</pre>
 * Registered on an instance field, so each test has its own. The connection and the kind are made
 * when first asked for: a test that only wants kind names opens no connection until the clean-up.
 * It lives in the core module's test jar: the support module cannot see core's classes, as core's
 * own tests depend on support.
 */
public final class RedisFixture implements AfterEachCallback {
    private final String base;
    private final List<String> named = new ArrayList<>();
    private RedisConnector redis;
    private String task;

    /** {@code base} starts the kind's name, so that a key in Redis tells which test wrote it. */
    public RedisFixture(String base) {
        this.base = base;
    }

    /** For a test that names each of its kinds with {@link #newTask(String)}. */
    public RedisFixture() {
        this("test");
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            if (!named.isEmpty()) {
                deleteKeysOf(redis(), named);
            }
        } catch (RuntimeException e) {
            // The test has passed or failed on its own; leftover keys of a kind no other test uses harm none.
            System.err.println("RedisFixture: could not delete the keys of " + named + ": " + e);
        } finally {
            if (redis != null) {
                redis.close();
                redis = null;
            }
        }
    }

    /** The test Redis's URI, for a client or a connection of the test's own. */
    public String uri() {
        return TestRedis.uri();
    }

    /** The test's connection, closed after its {@code @AfterEach}. */
    public RedisConnector redis() {
        if (redis == null) {
            redis = RedisConnector.connect(uri());
        }
        return redis;
    }

    /** Plain commands on {@link #redis()}, to read and write keys as redis-cli would. */
    public RedisClusterCommands<String, String> raw() {
        return redis().sync();
    }

    /** The test's own task kind (not published: the test publishes the definition it needs). */
    public String task() {
        if (task == null) {
            task = newTask(base);
        }
        return task;
    }

    /** The keys of {@link #task()}. */
    public Keys keys() {
        return Keys.of(task());
    }

    /** A new task kind no other test uses, starting with {@code base}; cleaned up after the test. */
    public String newTask(String base) {
        String name = TestRedis.uniqueTaskId(base);
        named.add(name);
        return name;
    }

    /**
     * Deletes every key of these kinds and takes them off the registry of kinds (a registered kind
     * without its definition would be a broken row in every listing). SCAN rather than KEYS: the
     * suite's Redis holds many keys, and other tests use it meanwhile.
     */
    private static void deleteKeysOf(RedisConnector redis, List<String> kinds) {
        RedisClusterCommands<String, String> sync = redis.sync();
        for (String kind : kinds) {
            for (String pattern : keyPatterns(kind)) {
                ScanCursor cursor = ScanCursor.INITIAL;
                do {
                    KeyScanCursor<String> page = sync.scan(cursor, ScanArgs.Builder.matches(pattern).limit(1000));
                    if (!page.getKeys().isEmpty()) {
                        sync.unlink(page.getKeys().toArray(String[]::new));
                    }
                    cursor = page;
                } while (!cursor.isFinished());
            }
            sync.srem(Keys.TASK_REGISTRY, kind);
        }
    }

    /** Every key of a kind starts with {@code taskpool:{kind}:}, or {@code taskpool:{kind~...}:} for a partition (see {@link Keys}). */
    private static List<String> keyPatterns(String kind) {
        return List.of(Keys.ROOT + "{" + kind + "}:*", Keys.ROOT + "{" + kind + Keys.PARTITION_MARK + "*}:*");
    }
}
