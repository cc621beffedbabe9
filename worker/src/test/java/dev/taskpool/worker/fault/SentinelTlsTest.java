package dev.taskpool.worker.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.support.SentinelRedis;
import dev.taskpool.support.TestCertificates;
import dev.taskpool.worker.EmbeddedWorker;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rediss-sentinel://…#mymaster} with a private CA: the three Sentinels, the master and the
 * replica speak only TLS, with certificates of a CA made at test time. A worker and a client given
 * that CA ({@link RedisTls}, as {@code --redis-ca} / {@code TASKPOOL_REDIS_CA}) find the master
 * through the Sentinels, run tasks, and follow a kill -9 of the master to the promoted replica; the
 * same CA must therefore serve the Sentinel connections and the data connections.
 */
class SentinelTlsTest {
    /** Above the idle BLPOP (2 s), so a command timeout never drops a popped element. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);
    private static final String TASK = "sentineltls";
    private static final String PROCESS = "models.sentineltls.echo";

    @TempDir
    Path dir;

    @Test
    void aWorkerAndAClientRunTasksThroughTlsSentinelsWithAPrivateCaAndFollowAFailover() {
        TestCertificates certificates = TestCertificates.create();
        RedisTls tls = RedisTls.none().withCa(certificates.caCert);
        TestApp app = TestApp.in(dir).task(TASK, 4, 3, 0, 10, 10_000, PROCESS, "");
        try (SentinelRedis redis = SentinelRedis.startTls(certificates)) {
            assertTrue(redis.uri().startsWith("rediss-sentinel://"), redis.uri());

            // Without the CA the Sentinels' certificates are not trusted: the error says what to give.
            TaskpoolException untrusted = assertThrows(TaskpoolException.class,
                    () -> TaskpoolClient.connect(redis.uri(), RedisTls.none()).close());
            assertTrue(untrusted.getMessage().contains("--redis-ca"), "names the CA setting: " + untrusted.getMessage());

            try (EmbeddedWorker worker = EmbeddedWorker.builder(redis.uri(), app.dir())
                         .tls(tls)
                         .commandTimeout(COMMAND_TIMEOUT)
                         .process(PROCESS, args -> Map.of("echo", args.get(1)))
                         .settings(s -> s.withLease(Duration.ofSeconds(2), Duration.ofMillis(500))
                                 .withRecoverInterval(Duration.ofSeconds(1)).withShutdownGrace(Duration.ofSeconds(2)))
                         .start();
                 TaskpoolClient client = TaskpoolClient.connect(redis.uri(), COMMAND_TIMEOUT, Duration.ofSeconds(20), tls)) {
                assertAllSucceed(client, "before the failover", 20);

                int oldMaster = redis.currentMasterPort();
                redis.initialMaster().kill();
                redis.awaitFailover(oldMaster, Duration.ofSeconds(30));
                assertNotEquals(oldMaster, redis.currentMasterPort(), "the Sentinels promoted the replica");

                // The adds' deadline (20 s) covers the time the client needs to find the new master.
                assertAllSucceed(client, "after a kill -9 of the master", 20);
                assertEquals(redis.currentMasterPort(), redis.initialReplica().port(),
                        "the Sentinels name the former replica as master: the tasks after the failover ran there, over TLS");
            }
        }
    }

    private static void assertAllSucceed(TaskpoolClient client, String when, int count) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(client.add(TASK, when + " #" + i).id());
        }
        for (long id : ids) {
            TaskInfo done = client.await(TASK, id, Duration.ofSeconds(30));
            assertEquals(TaskStatus.SUCCESS, done.status(), "task #" + id + " " + when + ": " + done);
        }
    }
}
