package dev.taskpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.spring.boot.health.TaskpoolHealthIndicator;
import dev.taskpool.support.TestRedis;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Which beans the auto-configuration makes, with and without Actuator's health API, Micrometer and
 * spring-tx on the class path, and with the worker on or off; on the tests' real Redis.
 */
class TaskpoolAutoConfigurationTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    static class Echo {
        @TaskProcessor("spring.conditions.echo")
        public String echo(String text) {
            return "echo " + text;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class EchoConfig {
        @Bean
        Echo echo() {
            return new Echo();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class MetricsConfig {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnClientConfig {
        @Bean(destroyMethod = "close")
        TaskpoolClient ownClient() {
            return TaskpoolClient.connect(TestRedis.uri());
        }
    }

    static class BadAnnotation {
        @TaskProcessor(value = "spring.conditions.bad", workerNums = 0)
        public void run() {
        }
    }

    public interface Greeting {
        String greet(String name);
    }

    static class InterfaceProxied implements Greeting {
        @Override
        @TaskProcessor("spring.conditions.proxied")
        public String greet(String name) {
            return "hi " + name;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class BadAnnotationConfig {
        @Bean
        BadAnnotation badAnnotation() {
            return new BadAnnotation();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class InterfaceProxyConfig {
        @Bean
        Greeting greeting() {
            ProxyFactory proxy = new ProxyFactory(new InterfaceProxied());
            proxy.addInterface(Greeting.class);
            return (Greeting) proxy.getProxy();
        }
    }

    @Test
    void aBadAnnotationStopsTheStartNamingTheMethodAndAttribute() {
        TestApps.runner().withPropertyValues("taskpool.worker.enabled=true").withUserConfiguration(BadAnnotationConfig.class)
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("@TaskProcessor(\"spring.conditions.bad\") on BadAnnotation.run(): workerNums must be at least 1"));
    }

    @Test
    void aProcessorBehindAnInterfaceBasedProxyIsRefusedByName() {
        TestApps.runner().withPropertyValues("taskpool.worker.enabled=true").withUserConfiguration(InterfaceProxyConfig.class)
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("bean 'greeting' has @TaskProcessor methods but is an interface-based (JDK) proxy"));
    }

    @Test
    void theImportsFileListsEveryAutoConfiguration() {
        List<String> listed = ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()).getCandidates();
        assertThat(listed).contains(TaskpoolAutoConfiguration.class.getName(), TaskpoolTransactionAutoConfiguration.class.getName(),
                "dev.taskpool.spring.boot.health.TaskpoolHealthAutoConfiguration",
                "dev.taskpool.spring.boot.metrics.TaskpoolMetricsAutoConfiguration");
    }

    @Test
    void byDefaultAClientAndNoWorkerAndTheHealthIsUp() {
        TestApps.runner().run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(TaskpoolClient.class).doesNotHaveBean(TaskpoolWorkerLifecycle.class)
                    .hasSingleBean(TransactionalTaskAdds.class).hasBean("taskpoolHealthIndicator");
            Health health = context.getBean(TaskpoolHealthIndicator.class).health();
            assertThat(health.getStatus()).as(health.toString()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("workerEnabled", false).containsKey("redis");
        });
    }

    @Test
    void theWorkerDisabledOnPurposeIsNoWorkerAndTheHealthStaysUp() {
        TestApps.runner().withPropertyValues("taskpool.worker.enabled=false").run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(TaskpoolWorkerLifecycle.class);
            assertThat(context.getBean(HealthIndicator.class).health().getStatus()).isEqualTo(Status.UP);
        });
    }

    @Test
    void withoutActuatorsHealthApiThereIsNoIndicatorAndTheApplicationStarts() {
        TestApps.runner().withClassLoader(new FilteredClassLoader("org.springframework.boot.health"))
                .withPropertyValues("taskpool.worker.enabled=true").withUserConfiguration(EchoConfig.class)
                .run(context -> {
                    assertThat(context).hasNotFailed().doesNotHaveBean("taskpoolHealthIndicator")
                            .hasSingleBean(TaskpoolWorkerLifecycle.class);
                    assertProcessed(context.getBean(TaskpoolClient.class), "without actuator");
                });
    }

    @Test
    void withoutMicrometerTheWorkerRunsAndKeepsNoMetrics() {
        TestApps.runner().withClassLoader(new FilteredClassLoader("io.micrometer"))
                .withPropertyValues("taskpool.worker.enabled=true").withUserConfiguration(EchoConfig.class)
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(TaskpoolWorkerLifecycle.class)
                            .doesNotHaveBean("taskpoolMeterRegistryCustomizer");
                    assertProcessed(context.getBean(TaskpoolClient.class), "without micrometer");
                });
    }

    @Test
    void micrometerOnTheClassPathButNoRegistryBeanIsNoProblem() {
        TestApps.runner().withPropertyValues("taskpool.worker.enabled=true").withUserConfiguration(EchoConfig.class)
                .run(context -> {
                    assertThat(context).hasNotFailed().doesNotHaveBean(MeterRegistry.class)
                            .hasBean("taskpoolMeterRegistryCustomizer");
                    assertProcessed(context.getBean(TaskpoolClient.class), "no registry");
                });
    }

    @Test
    void theWorkersMetersGoToTheApplicationsRegistry() {
        TestApps.runner().withPropertyValues("taskpool.worker.enabled=true")
                .withUserConfiguration(EchoConfig.class, MetricsConfig.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertProcessed(context.getBean(TaskpoolClient.class), "with metrics");
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.find("taskpool.tasks.succeeded").tag("task", "spring.conditions.echo").counter())
                            .as("the worker's counter in the application's registry").isNotNull();
                    assertThat(registry.find("taskpool.slots.capacity").tag("task", "spring.conditions.echo").gauge()).isNotNull();
                });
    }

    @Test
    void aWorkerWithNothingToRunStopsTheStartSayingWhatIsMissing() {
        TestApps.runner().withPropertyValues("taskpool.worker.enabled=true")
                .run(context -> assertThat(context).hasFailed().getFailure().cause().hasMessageContaining("nothing to run")
                        .hasMessageEndingWith("(taskpool.worker.enabled=true, but no bean has @TaskProcessor methods and"
                                + " taskpool.app-directory is not set)"));
    }

    @Test
    void withoutSpringTxThereAreNoTransactionalAdds() {
        TestApps.runner().withClassLoader(new FilteredClassLoader(TransactionSynchronizationManager.class))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(TransactionalTaskAdds.class)
                        .hasSingleBean(TaskpoolClient.class));
    }

    @Test
    void anApplicationsOwnClientIsKeptAndUsed() {
        TestApps.runner().withUserConfiguration(OwnClientConfig.class).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(TaskpoolClient.class).hasBean("ownClient")
                    .doesNotHaveBean("taskpoolClient");
            assertThat(context.getBean(HealthIndicator.class).health().getStatus()).isEqualTo(Status.UP);
        });
    }

    @Test
    void theHealthIndicatorCanBeTurnedOff() {
        TestApps.runner().withPropertyValues("management.health.taskpool.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("taskpoolHealthIndicator"));
    }

    private static void assertProcessed(TaskpoolClient client, String text) {
        long id = client.add("spring.conditions.echo", text).id();
        TaskInfo done = client.await("spring.conditions.echo", id, WAIT);
        assertThat(done.status()).as(done.toString()).isEqualTo(TaskStatus.SUCCESS);
        assertThat(done.response().asText()).isEqualTo("echo " + text);
    }
}
