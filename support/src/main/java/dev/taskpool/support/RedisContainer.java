package dev.taskpool.support;

import java.nio.file.Files;
import java.nio.file.Path;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The tests' Redis in a Testcontainers container, when a Docker engine answers. Only
 * {@link TestRedis} uses it, so the container library stays a test dependency (the command line
 * excludes it).
 */
final class RedisContainer {
    private RedisContainer() {
    }

    /** Why no container can be had here, or null when a Docker engine answers. */
    static String unavailableReason() {
        if (System.getenv("DOCKER_HOST") == null && !Files.exists(Path.of("/var/run/docker.sock"))) {
            return "Docker: no engine configured (no DOCKER_HOST, no /var/run/docker.sock)";
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable() ? null : "Docker: no engine answered";
        } catch (RuntimeException e) {
            return "Docker: " + e.getMessage();
        }
    }

    /** Starts a container and returns its URL; it stops when the JVM exits. */
    static String start() {
        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse("redis:7-alpine")).withExposedPorts(6379);
        container.start();
        Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "stop-test-redis-container"));
        return "redis://" + container.getHost() + ":" + container.getMappedPort(6379);
    }
}
