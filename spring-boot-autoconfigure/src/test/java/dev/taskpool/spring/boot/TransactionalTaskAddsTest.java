package dev.taskpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.spring.TaskProcessor;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Adds inside real Spring transactions (a {@link DataSourceTransactionManager} over an in-memory H2
 * database): held until the commit, so the task sees the committed row; dropped on rollback; sent
 * at once with {@code taskpool.transaction.hold-adds=false} and outside a transaction.
 */
class TransactionalTaskAddsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String KIND = "spring.tx.order";

    /** Processes an order by counting its committed row, in a transaction of its own (through the bean's proxy). */
    static class Orders {
        private final JdbcTemplate jdbc;

        Orders(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional(readOnly = true)
        @TaskProcessor(value = KIND, workerNums = 2)
        public String process(String order) {
            Integer rows = jdbc.queryForObject("select count(*) from orders where name = ?", Integer.class, order);
            return order + ": " + rows + " row(s), in a transaction " + TransactionSynchronizationManager.isActualTransactionActive();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement(proxyTargetClass = true)
    static class Database {
        @Bean
        DataSource dataSource() {
            JdbcDataSource h2 = new JdbcDataSource();
            h2.setURL("jdbc:h2:mem:orders-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
            new JdbcTemplate(h2).execute("create table orders (name varchar(100) primary key)");
            return h2;
        }

        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }

        @Bean
        TransactionTemplate transactionTemplate(PlatformTransactionManager transactions) {
            return new TransactionTemplate(transactions);
        }

        @Bean
        JdbcTemplate jdbcTemplate(DataSource dataSource) {
            return new JdbcTemplate(dataSource);
        }

        @Bean
        Orders orders(JdbcTemplate jdbc) {
            return new Orders(jdbc);
        }
    }

    private static ApplicationContextRunner app() {
        return TestApps.runner().withUserConfiguration(Database.class).withPropertyValues("taskpool.worker.enabled=true");
    }

    private static long added(TaskpoolClient client) {
        return client.operations().stats(KIND).addedTotal();
    }

    @Test
    void anAddInsideATransactionIsSentAfterTheCommitAndTheTaskSeesTheCommittedRow() {
        app().run(context -> {
            TransactionalTaskAdds adds = context.getBean(TransactionalTaskAdds.class);
            TaskpoolClient client = context.getBean(TaskpoolClient.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            long before = added(client);

            CompletableFuture<AddResult> held = context.getBean(TransactionTemplate.class).execute(status -> {
                jdbc.update("insert into orders (name) values (?)", "committed");
                CompletableFuture<AddResult> add = adds.add(KIND, "committed");
                assertThat(add).as("held until the commit").isNotDone();
                assertThat(added(client)).as("nothing sent to Redis inside the transaction").isEqualTo(before);
                return add;
            });

            AddResult result = held.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            TaskInfo done = client.await(KIND, result.id(), WAIT);
            assertThat(done.status()).as(done.toString()).isEqualTo(TaskStatus.SUCCESS);
            assertThat(done.response().asText()).isEqualTo("committed: 1 row(s), in a transaction true");
        });
    }

    @Test
    void anAddInsideATransactionThatRollsBackIsDroppedWithACancellation() {
        app().run(context -> {
            TransactionalTaskAdds adds = context.getBean(TransactionalTaskAdds.class);
            TaskpoolClient client = context.getBean(TaskpoolClient.class);
            long before = added(client);

            CompletableFuture<AddResult> dropped = context.getBean(TransactionTemplate.class).execute(status -> {
                context.getBean(JdbcTemplate.class).update("insert into orders (name) values (?)", "rolled-back");
                CompletableFuture<AddResult> add = adds.addWith(KIND, AddOptions.delay(Duration.ofSeconds(1)), "rolled-back");
                status.setRollbackOnly();
                return add;
            });

            assertThat(dropped).isCancelled();
            assertThat(dropped.handle((result, failure) -> failure).join()).isInstanceOf(CancellationException.class)
                    .hasMessage("the add of a " + KIND + " task was dropped: its transaction rolled back");
            // an add after it goes through, and it is the only one Redis has seen since
            long next = adds.add(KIND, "after").get(WAIT.toSeconds(), TimeUnit.SECONDS).id();
            assertThat(added(client)).isEqualTo(before + 1);
            assertThat(client.await(KIND, next, WAIT).status()).isEqualTo(TaskStatus.SUCCESS);
        });
    }

    @Test
    void addsHeldByOneTransactionAreSentInTheOrderMade() {
        app().run(context -> {
            TransactionalTaskAdds adds = context.getBean(TransactionalTaskAdds.class);
            CompletableFuture<?>[] held = context.getBean(TransactionTemplate.class).execute(status -> new CompletableFuture<?>[] {
                    adds.add(KIND, "first"), adds.add(KIND, "second"), adds.add(KIND, "third")});
            CompletableFuture.allOf(held).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            long[] ids = new long[3];
            for (int i = 0; i < 3; i++) {
                ids[i] = ((AddResult) held[i].join()).id();
            }
            assertThat(ids[0]).isLessThan(ids[1]);
            assertThat(ids[1]).isLessThan(ids[2]);
        });
    }

    @Test
    void withHoldAddsOffAnAddInsideATransactionIsSentAtOnceAndOutlivesARollback() {
        app().withPropertyValues("taskpool.transaction.hold-adds=false").run(context -> {
            TransactionalTaskAdds adds = context.getBean(TransactionalTaskAdds.class);
            TaskpoolClient client = context.getBean(TaskpoolClient.class);
            assertThat(adds.holdsAdds()).isFalse();

            long id = context.getBean(TransactionTemplate.class).execute(status -> {
                AddResult sent = adds.add(KIND, "not held").join();   // answered before the transaction ends
                status.setRollbackOnly();
                return sent.id();
            });

            TaskInfo done = client.await(KIND, id, WAIT);
            assertThat(done.status()).isEqualTo(TaskStatus.SUCCESS);
            assertThat(done.response().asText()).startsWith("not held: 0 row(s)");   // the trade-off of not holding
        });
    }

    @Test
    void outsideATransactionAnAddIsSentAtOnce() {
        app().run(context -> {
            TransactionalTaskAdds adds = context.getBean(TransactionalTaskAdds.class);
            assertThat(TransactionSynchronizationManager.isSynchronizationActive()).isFalse();
            AddResult result = adds.add(KIND, "no transaction").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(context.getBean(TaskpoolClient.class).await(KIND, result.id(), WAIT).status()).isEqualTo(TaskStatus.SUCCESS);
        });
    }
}
