package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.Subscription;
import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.RedisConnector;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.Wait;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker and a client each run as a Redis ACL user with only the rules the README gives, end to
 * end (add, retry after a failure, progress, events, await, get). Any command those rules deny fails
 * the test through Redis' own ACL LOG, even one the worker would only log and retry.
 */
public class AclUserTest {
    /** The README's rules for a worker (`ACL SETUSER taskpool-worker on >PASSWORD ` + these). */
    public static final String WORKER_RULES = "resetkeys resetchannels ~taskpool:* &taskpool:* -@all"
            + " +cluster|info +info +wait +evalsha +eval +blpop"
            + " +get +set +del +exists +type +hget +hmget +hgetall +hset +hdel +hincrby +incrby +pexpire"
            + " +llen +lindex +lrange +lpush +rpush +lpop +rpop +sadd +sismember +zadd +zrem +zrangebyscore +zremrangebyscore +publish"
            + " +pubsub|numpat +pubsub|numsub +subscribe +unsubscribe";
    /** The README's rules for a client (adds, reads, awaits and watches tasks). */
    public static final String CLIENT_RULES = "resetkeys resetchannels ~taskpool:* &taskpool:* -@all"
            + " +cluster|info +info +wait +evalsha +eval +hgetall +hget +hmget +get +llen +exists +type +set +hset +hincrby +incrby +lpush +rpush +publish"
            + " +pubsub|numpat +pubsub|numsub +subscribe +psubscribe +unsubscribe +punsubscribe";
    /** The README's rules for an operator (TaskOperations: stats, listings, retry, cancel, pause, resume, delete). */
    static final String OPERATOR_RULES = "resetkeys resetchannels ~taskpool:* &taskpool:* -@all"
            + " +cluster|info +evalsha +eval +smembers +sismember +zrange +get +set +del +exists +type"
            + " +hget +hmget +hgetall +hset +hdel +hincrby +pexpire +persist"
            + " +llen +lindex +lrange +lpos +lpush +rpush +lrem"
            + " +zadd +zrem +zcard +zrangebyscore +zrevrangebyscore +zcount +publish";
    /**
     * What a client that watches every task of a kind ({@code subscribeAll}) adds per kind: Redis matches
     * a PSUBSCRIBE pattern literally against the channel rules, so {@code &taskpool:*} does not cover it.
     */
    public static final String CLIENT_PATTERN_RULE = "&taskpool:{%s}:events:*";

    private static final String TASK = "acl";
    @TempDir
    Path dir;
    private LocalRedis redis;
    private RedisConnector admin;

    @BeforeEach
    void startRedisWithUsers() {
        redis = LocalRedis.start();
        admin = RedisConnector.connect(redis.uri());
        setUser("taskpool-worker", "worker-secret", WORKER_RULES);
        setUser("taskpool-client", "client-secret", CLIENT_RULES + " " + CLIENT_PATTERN_RULE.formatted(TASK));
        setUser("taskpool-operator", "operator-secret", OPERATOR_RULES);
        admin.sync().aclLogReset();
    }

    @AfterEach
    void stopRedis() {
        if (admin != null) {
            admin.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private void setUser(String name, String password, String rules) {
        CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add(name).add("on")
                .add(">" + password);
        for (String rule : rules.split(" ")) {
            args.add(rule);
        }
        String reply = admin.sync().dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), args);
        assertEquals("OK", reply, "ACL SETUSER " + name);
    }

    private String urlFor(String user, String password) {
        return redis.uri().replace("redis://", "redis://" + user + ":" + password + "@");
    }

    @Test
    void aWorkerAndAClientRunEndToEndAsRestrictedAclUsers() {
        String task = TASK;
        TestApp app = TestApp.in(dir).task(task, 2, 2, 0, 5, 100, "models.acl.flaky", "");
        AtomicInteger calls = new AtomicInteger();
        EmbeddedWorker worker = EmbeddedWorker.builder(urlFor("taskpool-worker", "worker-secret"), app.dir())
                .process("models.acl.flaky", args -> {
                    if (calls.incrementAndGet() == 1) {
                        throw new IllegalStateException("the first run fails, so the retry path runs too");
                    }
                    return Map.of("echo", args.get(1));
                })
                .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                .start();
        Map<String, Integer> events = new ConcurrentHashMap<>();
        try (TaskpoolClient client = TaskpoolClient.connect(urlFor("taskpool-client", "client-secret"));
             Subscription ignored = client.subscribeAll(task, event -> events.merge(event.event(), 1, Integer::sum))) {
            long first = client.add(task, "one").id();
            List<Long> more = client.addAll(task, List.of(List.of("two"), List.of("three")));
            for (long id : List.of(first, more.get(0), more.get(1))) {
                TaskInfo done = client.await(task, id, Duration.ofSeconds(30));
                assertEquals(TaskStatus.SUCCESS, done.status(), "task #" + id + " as the ACL users: " + done);
            }
            assertTrue(client.get(task, first).orElseThrow().attempt() >= 1, "get works as the client user");
            Wait.until("events reach the client user's pattern subscription", Duration.ofSeconds(60),
                    () -> !events.isEmpty());
        } finally {
            worker.close();
        }
        assertTrue(calls.get() >= 4, "one failed run and three successful ones, got " + calls.get());
        List<Map<String, Object>> denied = admin.sync().aclLog();
        assertEquals(List.of(), denied, "commands the README's ACL rules denied (ACL LOG)");
    }

    @Test
    void anOperatorDoesEveryActionAsARestrictedAclUserWhileAWorkerRunsAsItsOwn() {
        String task = TASK;
        TestApp app = TestApp.in(dir).task(task, 2, 0, 0, 30, 100, "models.acl.controlled", "");
        java.util.concurrent.atomic.AtomicBoolean healthy = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.Set<Object> blocking = ConcurrentHashMap.newKeySet();
        EmbeddedWorker worker = EmbeddedWorker.builder(urlFor("taskpool-worker", "worker-secret"), app.dir())
                .process("models.acl.controlled", args -> {
                    if ("block".equals(args.get(1))) {
                        blocking.add(args.get(0));
                        try {
                            release.await(20, java.util.concurrent.TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException("interrupted", e);   // (a cancel stops it so)
                        }
                    }
                    if (!healthy.get()) {
                        throw new IllegalStateException("not yet");
                    }
                    return "ok";
                })
                .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                .start();
        try (TaskpoolClient client = TaskpoolClient.connect(urlFor("taskpool-client", "client-secret"));
             TaskpoolClient operator = TaskpoolClient.connect(urlFor("taskpool-operator", "operator-secret"))) {
            var operations = operator.operations();
            long failing = client.add(task, "a").id();
            assertEquals(TaskStatus.FAILURE, client.await(task, failing, Duration.ofSeconds(30)).status());
            healthy.set(true);
            operations.retry(task, failing, "ops");
            assertEquals(TaskStatus.SUCCESS, client.await(task, failing, Duration.ofSeconds(30)).status());
            healthy.set(false);
            long again = client.add(task, "b").id();
            assertEquals(TaskStatus.FAILURE, client.await(task, again, Duration.ofSeconds(30)).status());
            healthy.set(true);
            assertEquals(1, operations.retryFailed(task, "ops"));
            assertEquals(TaskStatus.SUCCESS, client.await(task, again, Duration.ofSeconds(30)).status());

            long running = client.add(task, "block").id();
            Wait.until("the blocking task runs", Duration.ofSeconds(60), () -> !blocking.isEmpty());
            operations.cancel(task, running, "ops");
            operations.pause(task, "ops");
            long waiting = client.add(task, "c").id();
            assertEquals(1, operations.list(task, TaskStatus.WAITING, 10, null).tasks().size());
            operations.cancel(task, waiting, "ops");
            operations.resume(task, "ops");
            release.countDown();
            assertEquals(2, operations.list(task, TaskStatus.FAILURE, 10, null).tasks().size(), "the two canceled");
            assertEquals(2, operations.list(task, TaskStatus.SUCCESS, 10, null).tasks().size());
            assertTrue(operations.list(task, TaskStatus.RUNNING, 10, null).tasks().size() <= 1);
            operations.delete(task, failing);
            assertEquals(List.of(task), operations.kinds());
            assertEquals(2, operations.stats().getFirst().canceled());
            assertEquals(1, operations.workers().size(), "the worker's presence, read as the operator");
        } finally {
            worker.close();
        }
        List<Map<String, Object>> denied = admin.sync().aclLog();
        assertEquals(List.of(), denied, "commands the README's ACL rules denied (ACL LOG)");
    }

    @Test
    void aCommandTheAclRefusesInsideAScriptIsReportedAsSuchNotAsAWrongType() {
        // A user that may run the scripts but not HGET/HMGET, which the add and progress scripts read with.
        setUser("taskpool-partial", "partial-secret", CLIENT_RULES.replace(" +hget +hmget ", " "));
        TestApp app = TestApp.in(dir).task(TASK, 1, 0, 0, 5, 100, "models.acl.noop", "");
        try (EmbeddedWorker worker = EmbeddedWorker.builder(urlFor("taskpool-worker", "worker-secret"), app.dir())
                .process("models.acl.noop", args -> null).start();
             TaskpoolClient partial = TaskpoolClient.connect(urlFor("taskpool-partial", "partial-secret"))) {
            long id = ((Number) worker.call("tasks." + TASK + ".add", "x")).longValue();
            dev.taskpool.core.TaskpoolException addError = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.taskpool.core.TaskpoolException.class, () -> partial.add(TASK, "y"));
            assertTrue(refusedByAcl(addError.getMessage()),
                    "the add names the ACL refusal: " + addError.getMessage());
            dev.taskpool.core.TaskpoolException progressError = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.taskpool.core.TaskpoolException.class, () -> partial.progress(TASK, id, 1, 2, "half"));
            assertTrue(refusedByAcl(progressError.getMessage()),
                    "progress names the ACL refusal: " + progressError.getMessage());
        }
    }

    /** Redis 7.0 words a refusal inside a script "can't run this command", outside it NOPERM. */
    private static boolean refusedByAcl(String message) {
        return (message.contains("NOPERM") || message.contains("can't run this command")) && !message.contains("expected a hash");
    }

    @Test
    void theRulesDoNotReachBeyondTaskpoolKeys() {
        try (RedisConnector asClient = RedisConnector.connect(urlFor("taskpool-client", "client-secret"))) {
            io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> commands = asClient.sync();
            RedisCommandExecutionException error = assertThrows(RedisCommandExecutionException.class,
                    () -> commands.get("someone-else:secret"), "a key outside taskpool:*");
            assertTrue(error.getMessage().startsWith("NOPERM"), error.getMessage());
            error = assertThrows(RedisCommandExecutionException.class, () -> commands.flushall(), "FLUSHALL");
            assertTrue(error.getMessage().startsWith("NOPERM"), error.getMessage());
        }
    }
}
