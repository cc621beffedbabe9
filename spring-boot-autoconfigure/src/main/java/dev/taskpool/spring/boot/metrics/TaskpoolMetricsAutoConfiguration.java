package dev.taskpool.spring.boot.metrics;

import dev.taskpool.spring.boot.TaskpoolAutoConfiguration;
import dev.taskpool.spring.boot.TaskpoolWorkerCustomizer;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * The worker's meters in the application's Micrometer registry, only when Micrometer is on the
 * class path; without a {@link MeterRegistry} bean the worker keeps no metrics and starts all the
 * same. The registry is looked up when the worker starts (after every singleton exists), so the
 * order of the auto-configurations does not matter.
 */
@AutoConfiguration(after = TaskpoolAutoConfiguration.class)
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBooleanProperty("taskpool.worker.enabled")
public class TaskpoolMetricsAutoConfiguration {

    @Bean
    public TaskpoolWorkerCustomizer taskpoolMeterRegistryCustomizer(ObjectProvider<MeterRegistry> registry) {
        return builder -> registry.ifUnique(builder::meterRegistry);
    }
}
