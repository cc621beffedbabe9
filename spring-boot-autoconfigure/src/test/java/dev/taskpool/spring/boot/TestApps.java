package dev.taskpool.spring.boot;

import dev.taskpool.spring.boot.health.TaskpoolHealthAutoConfiguration;
import dev.taskpool.spring.boot.metrics.TaskpoolMetricsAutoConfiguration;
import dev.taskpool.support.TestRedis;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

/** The tests' applications, all on the tests' real Redis. */
final class TestApps {
    /** The starter's auto-configurations, as the imports file lists them. */
    static final AutoConfigurations TASKPOOL = AutoConfigurations.of(TaskpoolAutoConfiguration.class,
            TaskpoolTransactionAutoConfiguration.class, TaskpoolHealthAutoConfiguration.class,
            TaskpoolMetricsAutoConfiguration.class);

    private TestApps() {
    }

    /** A context with the starter's auto-configurations only (no Boot application around it). */
    static ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(TASKPOOL)
                .withPropertyValues("taskpool.redis-url=" + TestRedis.uri());
    }

    /**
     * A whole Spring Boot application (every auto-configuration on the test class path, Boot's
     * lifecycle settings included), without a web server, from {@code sources} and {@code properties}.
     */
    static ConfigurableApplicationContext start(Class<?>[] sources, String... properties) {
        Class<?>[] all = new Class<?>[sources.length + 1];
        all[0] = BootApp.class;
        System.arraycopy(sources, 0, all, 1, sources.length);
        return new SpringApplicationBuilder(all).web(WebApplicationType.NONE)
                .properties("taskpool.redis-url=" + TestRedis.uri(), "spring.main.banner-mode=off")
                .properties(properties)
                .run();
    }

    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class BootApp {
    }
}
