package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.RedisTls;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An embedded worker and a client, each with its TLS files given in code, run a task over mutual TLS. */
class MutualTlsTest {
    @TempDir
    Path dir;

    @Test
    void anEmbeddedWorkerAndAClientRunATaskOverMutualTls() {
        TestCertificates certificates = TestCertificates.create();
        RedisTls tls = RedisTls.none().withCa(certificates.caCert)
                .withClientCertificate(certificates.clientCert, certificates.clientKey);
        TestApp app = TestApp.in(dir).task("mtls", 1, 0, 0, 5, 10, "models.mtls.upper", "");
        try (LocalRedis redis = LocalRedis.startTls(certificates.serverCert, certificates.serverKey, certificates.caCert,
                true, List.of());
             EmbeddedWorker worker = EmbeddedWorker.builder(redis.uri(), app.dir())
                     .tls(tls)
                     .process("models.mtls.upper", args -> Map.of("text", ((String) args.get(1)).toUpperCase()))
                     .settings(s -> s.withShutdownGrace(Duration.ofSeconds(2)))
                     .start();
             TaskpoolClient client = TaskpoolClient.connect(redis.uri(), tls)) {
            long id = client.add("mtls", "secret").id();
            TaskInfo done = client.await("mtls", id, Duration.ofSeconds(30));
            assertEquals(TaskStatus.SUCCESS, done.status(), "over mutual TLS: " + done);
            assertEquals("SECRET", done.response().get("text").asText());
            assertEquals(worker.workerId(), done.worker(), "the embedded worker ran it");
        }
    }
}
