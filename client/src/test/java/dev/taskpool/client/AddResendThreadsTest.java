package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddOutcomeUnknownException;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.support.TcpProxy;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Many asynchronous adds whose first sends get no answer at once (Redis cut off by a partition)
 * are re-sent by a bounded number of threads, and every one of them is applied once after Redis
 * is back.
 */
class AddResendThreadsTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMillis(300);
    private static final String PREFIX = "taskpool-add-resend-";
    /** The documented bound of re-sending threads of one client. */
    private static final int MOST_THREADS = 8;
    private static final int ADDS = 300;
    private static final Pattern THREAD_NAME = Pattern.compile("\"name\":\\s*\"(" + PREFIX + "[^\"]*)\"");

    /**
     * The live threads named with the re-send prefix, virtual ones included: a JSON thread dump
     * lists the virtual threads of executors too, which {@code Thread.getAllStackTraces} does not.
     */
    private static int resendThreads() {
        try {
            Path dump = Files.createTempFile("threads-", ".json");
            Files.delete(dump);
            try {
                ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                        .dumpThreads(dump.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
                Set<String> names = new HashSet<>();
                Matcher matcher = THREAD_NAME.matcher(Files.readString(dump));
                while (matcher.find()) {
                    names.add(matcher.group(1));
                }
                return names.size();
            } finally {
                Files.deleteIfExists(dump);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot dump the threads: " + e.getMessage(), e);
        }
    }

    @Test
    void manyAddsLeftUnansweredAtOnceAreResentByABoundedNumberOfThreadsAndAllApplied() throws Exception {
        try (TcpProxy proxy = TcpProxy.start(TestRedis.uri());
             RedisConnector direct = RedisConnector.connect(TestRedis.uri())) {
            String task = TestRedis.uniqueTaskId("resends");
            new AddStore(direct).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                    Duration.ofSeconds(5), 100_000, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(60)));
            try (TaskpoolClient client = TaskpoolClient.connect(proxy.uri(), COMMAND_TIMEOUT, Duration.ofSeconds(40))) {
                client.add(task, "warm-up");
                proxy.partition();
                List<CompletableFuture<AddResult>> adds = new ArrayList<>();
                for (int i = 0; i < ADDS; i++) {
                    adds.add(client.addAsync(task, "add-" + i));
                }
                // The first sends time out after 300 ms and the adds go to be re-sent: some thread starts.
                Wait.until("an add to be re-sent", Duration.ofSeconds(60), () -> resendThreads() > 0);
                // Every add is left without an answer within a few command timeouts (those queued behind a
                // shared call give up waiting after one); count the threads all that while.
                int most = 0;
                long until = System.nanoTime() + COMMAND_TIMEOUT.multipliedBy(10).toNanos();
                while (System.nanoTime() < until) {
                    most = Math.max(most, resendThreads());
                    assertTrue(most <= MOST_THREADS, "at most " + MOST_THREADS + " re-sending threads, saw " + most);
                    Thread.sleep(50);
                }
                proxy.heal();
                List<Long> ids = new ArrayList<>();
                for (CompletableFuture<AddResult> add : adds) {
                    try {
                        ids.add(add.get(60, TimeUnit.SECONDS).id());
                    } catch (ExecutionException e) {
                        AddOutcomeUnknownException unknown = assertInstanceOf(AddOutcomeUnknownException.class, e.getCause(),
                                "an add either gets its id or an outcome to settle: " + e.getCause());
                        ids.add(client.retryAdd(unknown.request()).getFirst());
                    }
                }
                assertEquals(ADDS, new HashSet<>(ids).size(), "each add got an id of its own");
                System.out.println("re-sending threads at most: " + most);
            }
            Wait.until("the re-sending threads to end with the client", Duration.ofSeconds(30), () -> resendThreads() == 0);
            Keys keys = Keys.of(task);
            assertEquals(ADDS + 1, direct.sync().keys(keys.taskPrefix() + "*").size(), "every add applied once, no more");
            assertEquals(Integer.toString(ADDS + 1), direct.sync().hget(keys.stats(), "added"));
        }
    }
}
