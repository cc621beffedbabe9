package dev.taskpool.core.add;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.ScriptRunner;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.support.TcpProxy;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * When more asynchronous adds are left unanswered than the re-sending threads and their queue
 * take, the rest fail at once with an unknown outcome that says why, and settle with retryAdd
 * once Redis is back; none is applied twice.
 */
class AddResendsTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMillis(300);
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private static AddRequest request(AddSender sender, String task, String arg, long now) {
        return sender.newRequest(task, List.of(new NewTask(null, "[\"" + arg + "\"]")), AddOptions.none(), now);
    }

    @Test
    void addsPastTheQueueOfReSendsFailAtOnceAsUnknownAndSettleOnceRedisIsBack() throws Exception {
        AddResends resends = new AddResends(1, 2);
        try (TcpProxy proxy = TcpProxy.start(TestRedis.uri());
             RedisConnector direct = RedisConnector.connect(TestRedis.uri());
             RedisConnector through = RedisConnector.connect(proxy.uri(), COMMAND_TIMEOUT);
             resends) {
            String task = TestRedis.uniqueTaskId("resendqueue");
            new AddStore(direct).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                    Duration.ofSeconds(5), 1000, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60)));
            AddSender sender = new AddSender(through, new ScriptRunner(through.async()), Duration.ofSeconds(30), resends);
            long now = System.currentTimeMillis();
            assertEquals(List.of(1L), sender.settle(request(sender, task, "warm-up", now), now));

            proxy.partition();
            List<CompletableFuture<List<Long>>> adds = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                adds.add(sender.settleAsync(request(sender, task, "add-" + i, now), now));
            }
            // One add re-sends, two wait for its thread; the seven others cannot wait and fail at once.
            Wait.until("seven adds to be refused a re-send", LIMIT,
                    () -> adds.stream().filter(CompletableFuture::isCompletedExceptionally).count() == 7);
            List<AddOutcomeUnknownException> refused = new ArrayList<>();
            for (CompletableFuture<List<Long>> add : adds) {
                if (add.isCompletedExceptionally()) {
                    ExecutionException failure = Assertions.assertThrows(ExecutionException.class, add::get);
                    AddOutcomeUnknownException unknown = assertInstanceOf(AddOutcomeUnknownException.class, failure.getCause());
                    assertTrue(unknown.getMessage().contains("is unknown: its first send got no definite answer from Redis at "
                            + through.describe() + ", and it cannot be sent again now: 2 adds already wait to be sent again"
                            + " by the 1 re-sending thread of this connection"), unknown.getMessage());
                    assertTrue(unknown.getMessage().contains("Send it again with request id " + unknown.requestId()),
                            unknown.getMessage());
                    refused.add(unknown);
                }
            }
            proxy.heal();
            List<Long> ids = new ArrayList<>();
            for (CompletableFuture<List<Long>> add : adds) {
                if (!add.isCompletedExceptionally()) {
                    ids.addAll(add.get(LIMIT.toSeconds(), TimeUnit.SECONDS));
                }
            }
            for (AddOutcomeUnknownException unknown : refused) {
                ids.addAll(sender.settle(unknown.request(), System.currentTimeMillis()));
            }
            assertEquals(10, new HashSet<>(ids).size(), "each add got an id of its own: " + ids);
            Keys keys = Keys.of(task);
            assertEquals(11, direct.sync().keys(keys.taskPrefix() + "*").size(), "every add applied once, no more");
            assertEquals("11", direct.sync().hget(keys.stats(), "added"));
        }
    }
}
