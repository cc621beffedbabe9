package dev.taskpool.spring.boot;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.redis.RedisTls;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * taskpool in a Spring Boot application: a {@link TaskpoolClient} (always, unless the application
 * defines its own) and, with {@code taskpool.worker.enabled=true}, the embedded worker as a
 * lifecycle bean that serves the application's {@code @TaskProcessor} beans.
 */
@AutoConfiguration
@EnableConfigurationProperties(TaskpoolProperties.class)
public class TaskpoolAutoConfiguration {

    /** The client, connected when the context starts and closed with it. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public TaskpoolClient taskpoolClient(TaskpoolProperties properties) {
        try {
            return TaskpoolClient.connect(properties.getRedisUrl(), properties.getCommandTimeout(),
                    properties.effectiveAddDeadline(), redisTls(properties));
        } catch (TaskpoolException e) {
            // (the client's message names the Redis without its password; this names the setting too)
            throw new TaskpoolException("taskpool.redis-url: " + e.getMessage(), e);
        }
    }

    /** The TLS files of {@code taskpool.tls.*}; none given: a rediss:// URL trusts the JVM's CAs. */
    static RedisTls redisTls(TaskpoolProperties properties) {
        TaskpoolProperties.Tls tls = properties.getTls();
        RedisTls settings = RedisTls.none().withCa(tls.getCa());
        return tls.getCert() == null ? settings : settings.withClientCertificate(tls.getCert(), tls.getKey());
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty("taskpool.worker.enabled")
    static class WorkerConfiguration {
        @Bean
        @ConditionalOnMissingBean
        TaskpoolWorkerLifecycle taskpoolWorker(TaskpoolProperties properties, ListableBeanFactory beans,
                                               ObjectProvider<TaskpoolWorkerCustomizer> customizers, Environment environment) {
            return new TaskpoolWorkerLifecycle(properties, beans, customizers, environment);
        }
    }
}
