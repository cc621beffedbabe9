package dev.taskpool.worker.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.support.TcpProxy;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.process.ProcessException;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code Process('tasks.<id>.add')} through a partition: the same settling as the client, and retryAdd for scripts. */
class ProcessAddUnderPartitionTest {
    @TempDir
    Path dir;

    @Test
    void aScriptGetsTheRequestIdOfAnUnknownAddAndSettlesItWithRetryAdd() {
        String task = TestRedis.uniqueTaskId("process-partition");
        TestApp app = TestApp.in(dir).task(task, 1, 0, 0, 5, 100, "scripts.x.Work", "").script("x", """
                function Work() { return 1; }
                function Add(arg) {
                  try {
                    return { id: Process('tasks.%1$s.add', arg) };
                  } catch (e) {
                    const requestId = /request id (\\S+)/.exec(e.message);
                    return { unknown: requestId ? requestId[1] : null, message: e.message };
                  }
                }
                function Retry(requestId) { return Process('tasks.%1$s.retryAdd', requestId); }
                """.formatted(task));
        Keys keys = Keys.of(task);
        try (TcpProxy proxy = TcpProxy.start(TestRedis.uri());
             RedisConnector direct = RedisConnector.connect(TestRedis.uri());
             RedisConnector viaProxy = RedisConnector.connect(proxy.uri(), Duration.ofMillis(300));
             // The runtime's clock stands still: a request may be sent again until its creation time plus the
             // send window (2.5 s here), judged by this clock, and the two adds that time out behind the
             // partition take 1.4 s of it on an idle machine and more on a busy one. Redis still
             // remembers the ids for that window from when the healed proxy delivers them.
             AppRuntime runtime = AppRuntime.open(app.dir(), new AddStore(viaProxy, Duration.ofMillis(700)),
                     new ProcessRegistry(), InstantSource.fixed(Instant.now()))) {
            RedisClusterCommands<String, String> raw = direct.sync();
            assertEquals(Map.of("id", 1L), runtime.call("scripts.x.Add", List.of("warm-up")));

            proxy.partition();
            @SuppressWarnings("unchecked")
            Map<String, Object> unknown = (Map<String, Object>) runtime.call("scripts.x.Add", List.of("stuck"));
            String message = (String) unknown.get("message");
            assertTrue(message.contains("the outcome of adding a task to " + task + " is unknown"), message);
            String requestId = (String) unknown.get("unknown");
            assertTrue(requestId != null && message.contains("Process(\"tasks." + task + ".retryAdd\", \"" + requestId + "\")"),
                    message);

            // Straight from Java, the same add fails with the exception that carries the request.
            AddOutcomeUnknownException fromJava = assertThrows(AddOutcomeUnknownException.class,
                    () -> runtime.call("tasks." + task + ".add", List.of("stuck too")));
            proxy.heal();

            assertEquals(2L, ((Number) runtime.call("scripts.x.Retry", List.of(requestId))).longValue());
            assertEquals(3L, ((Number) runtime.call("tasks." + task + ".retryAdd", List.of(fromJava.requestId()))).longValue());
            ProcessException settled = assertThrows(ProcessException.class,
                    () -> runtime.call("tasks." + task + ".retryAdd", List.of(requestId)));
            assertTrue(settled.getMessage().contains("no add of task " + task + " with request id '" + requestId
                    + "' is waiting to be settled in this runtime"), settled.getMessage());

            assertEquals("[\"stuck\"]", raw.hget(keys.task(2), "args"));
            assertEquals("[\"stuck too\"]", raw.hget(keys.task(3), "args"));
            assertEquals(3, raw.keys(keys.taskPrefix() + "*").size(), "each add applied once");
            assertEquals("3", raw.hget(keys.stats(), "added"));
        }
    }
}
