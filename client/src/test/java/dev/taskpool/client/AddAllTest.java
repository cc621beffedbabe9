package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link TaskpoolClient#addAll} of a batch far past Lua's unpack limit (about 8,000 values). */
class AddAllTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("bulk");

    @Test
    void fiftyThousandTasksInOneAddAll() {
        String task = fixture.task();
        RedisConnector direct = fixture.redis();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            new AddStore(direct).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                    Duration.ofSeconds(5), 50_000, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60)));
            List<List<Object>> args = new ArrayList<>();
            for (int i = 0; i < 50_000; i++) {
                args.add(List.of("mail-" + i, i));
            }
            AtomicLong handled = new AtomicLong();
            client.onAdded(task, id -> handled.incrementAndGet());
            List<Long> ids = client.addAll(task, args);
            assertEquals(LongStream.rangeClosed(1, 50_000).boxed().toList(), ids);
            assertEquals(50_000, handled.get(), "the add handler ran once per task");
            RedisClusterCommands<String, String> raw = direct.sync();
            Keys keys = Keys.of(task);
            assertEquals(50_000, raw.llen(keys.waiting()));
            assertEquals("[\"mail-31415\",31415]", raw.hget(keys.task(31_416), "args"));
            assertEquals("50000", raw.hget(keys.stats(), "added"));
            assertEquals(List.of(), client.addAll(task, List.of(List.of("one more"))), "size 50,000 is reached");
        }
    }
}
