package dev.taskpool.spring.boot.nomicrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.support.TestRedis;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * An application whose class path has no Micrometer at all (run by the {@code without-micrometer}
 * surefire execution, which leaves its jars out; the default execution skips this class): the
 * worker, the client and the health indicator work all the same.
 */
class WithoutMicrometerTest {
    static class Echo {
        @TaskProcessor("spring.nomicrometer.echo")
        public String echo(String text) {
            return "echo " + text;
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
        @Bean
        Echo echo() {
            return new Echo();
        }
    }

    @Test
    void theWorkerRunsWithNoMicrometerOnTheClassPath() {
        assertThatThrownBy(() -> Class.forName("io.micrometer.core.instrument.MeterRegistry"))
                .as("this execution's class path must not hold Micrometer").isInstanceOf(ClassNotFoundException.class);
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .properties("taskpool.redis-url=" + TestRedis.uri(), "taskpool.worker.enabled=true").run()) {
            TaskpoolClient client = app.getBean(TaskpoolClient.class);
            long id = client.add("spring.nomicrometer.echo", "plain").id();
            TaskInfo done = client.await("spring.nomicrometer.echo", id, Duration.ofSeconds(60));
            assertThat(done.status()).as(done.toString()).isEqualTo(TaskStatus.SUCCESS);
            assertThat(done.response().asText()).isEqualTo("echo plain");
            assertThat(app.containsBean("taskpoolHealthIndicator")).isTrue();
        }
    }
}
