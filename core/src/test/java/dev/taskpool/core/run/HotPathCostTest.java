package dev.taskpool.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskReads;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.support.LocalRedis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Redis commands a task costs over its whole life (add, fetch, finish, events; INFO
 * commandstats, which counts the commands inside scripts too), at a fixed batch size, on a Redis of
 * its own. Deterministic, unlike a benchmark: the batch size is what varies with load, and here it
 * is set. A worker's round trip ends the previous batch and fetches the next one, as the pump does.
 */
class HotPathCostTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final int TASKS = 600;

    @ParameterizedTest(name = "batches of {0}: at most {1} commands per task")
    @CsvSource({"1, 23.1", "10, 7.8", "50, 6.4"})
    void commandsPerTaskAtAFixedBatchSize(int batch, double limit) {
        try (LocalRedis server = LocalRedis.start(); RedisConnector redis = RedisConnector.connect(server.uri())) {
            AddStore addStore = new AddStore(redis);
            RunStore runStore = new RunStore(redis);
            TaskReads taskReads = new TaskReads(redis);
            String task = "cost";
            addStore.publish(RunStoreTest.definition(task, TASKS, 0));
            long before = commands(redis);
            List<NewTask> adds = new ArrayList<>();
            for (int i = 0; i < TASKS; i++) {
                adds.add(new NewTask(null, "[" + i + "]"));
            }
            addStore.addAll(task, adds, NOW);
            List<FetchedTask> running = List.of();
            int finished = 0;
            while (finished < TASKS) {
                List<RunStore.Completion> ends = running.stream()
                        .map(run -> new RunStore.Completion(run, TaskStatus.SUCCESS, "1")).toList();
                RunStore.FinishResult result = runStore.finish(task, "w", ends, batch, NOW, NOW + 10_000, Duration.ofHours(1)).join();
                finished += ends.size();
                running = result.fetched();
            }
            double perTask = (commands(redis) - before) / (double) TASKS;
            System.out.printf("hot path, batches of %d: %.2f Redis commands per task%n", batch, perTask);
            assertEquals(TASKS, taskReads.stats(task).get("succeeded"));
            assertTrue(perTask <= limit, "batches of " + batch + ": " + perTask + " commands per task, expected at most " + limit);
        }
    }

    private static long commands(RedisConnector redis) {
        long total = 0;
        for (String line : redis.sync().info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_") && !line.startsWith("cmdstat_info:")) {
                total += Long.parseLong(line.replaceAll("^cmdstat_[^:]+:calls=(\\d+),.*", "$1"));
            }
        }
        return total;
    }
}
