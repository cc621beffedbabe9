package dev.taskpool.spring.boot;

import dev.taskpool.client.TaskpoolClient;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/** {@link TransactionalTaskAdds}, only when Spring's transaction support (spring-tx) is on the class path. */
@AutoConfiguration(after = TaskpoolAutoConfiguration.class)
@ConditionalOnClass(TransactionSynchronizationManager.class)
@ConditionalOnBean(TaskpoolClient.class)
public class TaskpoolTransactionAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public TransactionalTaskAdds transactionalTaskAdds(TaskpoolClient client, TaskpoolProperties properties) {
        return new TransactionalTaskAdds(client, properties.getTransaction().isHoldAdds());
    }
}
