package dev.taskpool.support;

/**
 * The Redis the tests use, once per test JVM: {@code TASKPOOL_TEST_REDIS_URL} when set, else a
 * Testcontainers container when a Docker engine answers, else a {@link LocalRedis} (redis-server
 * from PATH), stopped when the JVM exits.
 * When none can be had, every test that asks fails with the reason; none is skipped.
 */
public final class TestRedis {
    public static final String URL_VARIABLE = "TASKPOOL_TEST_REDIS_URL";
    private static String uri;
    private static RuntimeException failure;

    private TestRedis() {
    }

    public static synchronized String uri() {
        if (uri == null && failure == null) {
            String configured = System.getenv(URL_VARIABLE);
            if (configured != null && !configured.isBlank()) {
                uri = configured.trim();
            } else {
                String noContainer = RedisContainer.unavailableReason();
                try {
                    if (noContainer == null) {
                        uri = RedisContainer.start();
                    } else {
                        LocalRedis redis = LocalRedis.start();
                        Runtime.getRuntime().addShutdownHook(new Thread(redis::close, "stop-test-redis"));
                        uri = redis.uri();
                    }
                } catch (RuntimeException e) {
                    failure = new IllegalStateException("the tests need a real Redis and could not get one: "
                            + (noContainer == null ? "" : noContainer + "; ") + e.getMessage()
                            + " (or set " + URL_VARIABLE + "=redis://host:port)", e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return uri;
    }

    /** A task id no other test uses, so tests sharing one Redis never see each other's data. */
    public static String uniqueTaskId(String base) {
        return base + "-" + Long.toString(System.nanoTime(), 36) + Integer.toString((int) (Math.random() * 1000), 36);
    }
}
