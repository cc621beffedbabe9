package dev.taskpool.spring.boot.health;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.spring.boot.TaskpoolAutoConfiguration;
import dev.taskpool.spring.boot.TaskpoolWorkerLifecycle;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code taskpool} health indicator, only when Spring Boot's health API is on the class path
 * (spring-boot-health, which spring-boot-starter-actuator brings): nothing of Actuator is forced
 * on an application. {@code management.health.taskpool.enabled=false} turns it off.
 */
@AutoConfiguration(after = TaskpoolAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(TaskpoolClient.class)
public class TaskpoolHealthAutoConfiguration {

    /**
     * Named so that the health contributor is "taskpool" (Boot drops the "HealthIndicator" suffix).
     * The enabled condition sits here, not on the class: its condition class is in the health API,
     * which the class's own condition must find on the class path first.
     */
    @Bean
    @ConditionalOnEnabledHealthIndicator("taskpool")
    @ConditionalOnMissingBean(name = "taskpoolHealthIndicator")
    public TaskpoolHealthIndicator taskpoolHealthIndicator(TaskpoolClient client,
                                                           ObjectProvider<TaskpoolWorkerLifecycle> worker) {
        return new TaskpoolHealthIndicator(client, worker);
    }
}
