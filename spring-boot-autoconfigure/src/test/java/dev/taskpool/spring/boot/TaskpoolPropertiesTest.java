package dev.taskpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The {@code taskpool.*} properties: how they bind, and a bad value stops the start naming its property. */
class TaskpoolPropertiesTest {
    @TempDir
    Path dir;

    /** The properties alone: no client, so that a bad value fails before any connection. */
    private static ApplicationContextRunner properties(String... values) {
        return TestApps.runner().withPropertyValues(values);
    }

    private static String startFailure(String... values) {
        String[] text = new String[1];
        properties(values).run(context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            StringBuilder messages = new StringBuilder();
            for (Throwable each = failure; each != null; each = each.getCause()) {
                messages.append(each.getMessage()).append('\n');
            }
            text[0] = messages + "(most specific: " + NestedExceptionUtils.getMostSpecificCause(failure) + ")";
        });
        return text[0];
    }

    @Test
    void theDefaultsAndWhatIsGivenBind() {
        properties("taskpool.command-timeout=3s", "taskpool.worker.tasks=mail.send,image.resize",
                "taskpool.worker.worker-nums[mail.send]=4", "taskpool.worker.shutdown-grace=2s",
                "taskpool.transaction.hold-adds=false").run(context -> {
            TaskpoolProperties bound = context.getBean(TaskpoolProperties.class);
            assertThat(bound.getCommandTimeout()).isEqualTo(Duration.ofSeconds(3));
            assertThat(bound.effectiveAddDeadline()).as("three command timeouts, as the client's default").isEqualTo(Duration.ofSeconds(9));
            assertThat(bound.getWorker().isEnabled()).isFalse();
            assertThat(bound.getWorker().getTasks()).containsExactly("mail.send", "image.resize");
            assertThat(bound.getWorker().getWorkerNums()).isEqualTo(Map.of("mail.send", 4));
            assertThat(bound.getWorker().getShutdownGrace()).isEqualTo(Duration.ofSeconds(2));
            assertThat(bound.getTransaction().isHoldAdds()).isFalse();
            assertThat(bound.getTls().getCa()).isNull();
        });
        properties().run(context -> {
            TaskpoolProperties defaults = context.getBean(TaskpoolProperties.class);
            assertThat(defaults.getWorker().getShutdownGrace()).isEqualTo(Duration.ofSeconds(10));
            assertThat(defaults.getTransaction().isHoldAdds()).isTrue();
            assertThat(defaults.getAppDirectory()).isNull();
        });
    }

    @Test
    void environmentVariablesFollowBootsRule() {
        Map<String, Object> variables = Map.of("TASKPOOL_WORKER_SHUTDOWNGRACE", "3s",
                "TASKPOOL_ADDDEADLINE", "7s");
        properties().withInitializer(context -> context.getEnvironment().getPropertySources().addFirst(
                        new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables)))
                .run(context -> {
                    TaskpoolProperties bound = context.getBean(TaskpoolProperties.class);
                    assertThat(bound.getWorker().getShutdownGrace()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(bound.getAddDeadline()).isEqualTo(Duration.ofSeconds(7));
                });
    }

    @Test
    void aDurationThatIsNotOneNamesItsProperty() {
        assertThat(startFailure("taskpool.command-timeout=soon")).contains("taskpool.command-timeout").contains("soon");
    }

    @Test
    void aZeroCommandTimeoutNamesItsProperty() {
        assertThat(startFailure("taskpool.command-timeout=0s")).contains("taskpool.command-timeout").contains("must be longer than 0");
    }

    @Test
    void aNegativeAddDeadlineNamesItsProperty() {
        assertThat(startFailure("taskpool.add-deadline=-1s")).contains("taskpool.add-deadline").contains("must be longer than 0");
    }

    @Test
    void aUrlThatIsNotRedisNamesItsProperty() {
        assertThat(startFailure("taskpool.redis-url=http://127.0.0.1:6379")).contains("taskpool.redis-url")
                .contains("must start with redis://");
        assertThat(startFailure("taskpool.redis-url= ")).contains("taskpool.redis-url").contains("must name a Redis");
    }

    @Test
    void aRedisThatIsNotThereNamesTheProperty() {
        int closedPort = 1;   // (nothing listens on port 1 of the loopback)
        assertThat(startFailure("taskpool.redis-url=redis://127.0.0.1:" + closedPort))
                .contains("taskpool.redis-url: cannot connect to Redis at redis://127.0.0.1:1");
    }

    @Test
    void aNegativeGraceNamesItsProperty() {
        assertThat(startFailure("taskpool.worker.shutdown-grace=-5s")).contains("taskpool.worker.shutdown-grace")
                .contains("must not be negative");
    }

    @Test
    void aWorkerNumsBelowOneNamesItsPropertyAndKind() {
        assertThat(startFailure("taskpool.worker.worker-nums[mail.send]=0")).contains("taskpool.worker.worker-nums")
                .contains("gives mail.send 0");
    }

    @Test
    void aMissingAppDirectoryNamesItsProperty() {
        assertThat(startFailure("taskpool.app-directory=" + dir.resolve("nowhere"))).contains("taskpool.app-directory")
                .contains("is not a directory");
    }

    @Test
    void tlsFilesMustBeThereAndTheCertificateComesWithItsKey() throws Exception {
        Path cert = Files.writeString(dir.resolve("client.pem"), "not really a certificate");
        assertThat(startFailure("taskpool.tls.ca=" + dir.resolve("missing-ca.pem"))).contains("taskpool.tls.ca")
                .contains("is not a readable file");
        assertThat(startFailure("taskpool.tls.cert=" + cert)).contains("taskpool.tls.key")
                .contains("must be given with taskpool.tls.cert");
    }

    @Test
    void everyBadValueIsNamedAtOnce() {
        String failure = startFailure("taskpool.command-timeout=0s", "taskpool.worker.shutdown-grace=-1s",
                "taskpool.redis-url=ftp://x");
        assertThat(failure).contains("taskpool.command-timeout").contains("taskpool.worker.shutdown-grace")
                .contains("taskpool.redis-url");
    }
}
