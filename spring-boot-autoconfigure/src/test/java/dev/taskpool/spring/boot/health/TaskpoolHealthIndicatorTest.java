package dev.taskpool.spring.boot.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.spring.boot.TaskpoolAutoConfiguration;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.Wait;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code taskpool} health on a Redis of its own that the test stops answering (SIGSTOP) and
 * lets answer again: DOWN with the error while it is away, UP again after; a worker is reported.
 */
class TaskpoolHealthIndicatorTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private LocalRedis redis;

    static class Noop {
        @TaskProcessor("spring.health.noop")
        public void run() {
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class NoopConfig {
        @Bean
        Noop noop() {
            return new Noop();
        }
    }

    @BeforeEach
    void startRedis() {
        redis = LocalRedis.start();
    }

    @AfterEach
    void stopRedis() {
        redis.resume();
        redis.close();
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(TaskpoolAutoConfiguration.class, TaskpoolHealthAutoConfiguration.class))
                .withPropertyValues("taskpool.redis-url=" + redis.uri(), "taskpool.command-timeout=3s");
    }

    @Test
    void downWithTheErrorWhileRedisDoesNotAnswerAndUpAgainAfter() {
        runner().run(context -> {
            TaskpoolHealthIndicator indicator = context.getBean(TaskpoolHealthIndicator.class);
            assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);

            redis.pause();
            long before = System.nanoTime();
            Health away = indicator.health();
            Duration took = Duration.ofNanos(System.nanoTime() - before);
            assertThat(away.getStatus()).as(away.toString()).isEqualTo(Status.DOWN);
            assertThat(String.valueOf(away.getDetails().get("error"))).contains("did not answer a PING within 2s");
            assertThat(away.getDetails()).containsEntry("redis", "redis://127.0.0.1:" + redis.port());
            assertThat(took).as("the check waits for its own short timeout, not the command timeout")
                    .isLessThan(Duration.ofSeconds(3));

            redis.resume();
            AtomicReference<Health> last = new AtomicReference<>();
            Wait.until("UP again after Redis answers (last: " + last + ")", WAIT,
                    () -> Status.UP.equals(last.updateAndGet(ignored -> indicator.health()).getStatus()));
        });
    }

    @Test
    void aRunningWorkerIsReported() {
        runner().withPropertyValues("taskpool.worker.enabled=true").withUserConfiguration(NoopConfig.class).run(context -> {
            Health health = context.getBean(TaskpoolHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("workerEnabled", true).containsEntry("workerRunning", true)
                    .containsEntry("runningTasks", 0).containsKey("workerId").containsKey("pingMillis");
        });
    }

    @Test
    void aUrlsPasswordIsNotShown() throws IOException {
        command("ACL SETUSER app on >s3cret ~* &* +@all");
        runner().withPropertyValues("taskpool.redis-url=redis://app:s3cret@127.0.0.1:" + redis.port()).run(context -> {
            Health health = context.getBean(TaskpoolHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.toString()).doesNotContain("s3cret");
        });
    }

    /** One inline command to the test's Redis, expected to answer +OK (the starter has no raw Redis access, by design). */
    private void command(String inline) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", redis.port())) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            byte[] reply = new byte[64];
            int read = socket.getInputStream().read(reply);
            assertThat(new String(reply, 0, Math.max(read, 0), StandardCharsets.UTF_8)).as(inline).startsWith("+OK");
        }
    }
}
