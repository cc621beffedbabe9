package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.TestCertificates;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `taskpool run` and `get` against a mutual-TLS Redis with --redis-ca / --redis-cert / --redis-key. */
class CliTlsTest {
    private static TestCertificates certificates;
    private static LocalRedis redis;

    @TempDir
    Path dir;

    @BeforeAll
    static void startTlsRedis() {
        certificates = TestCertificates.create();
        redis = LocalRedis.startTls(certificates.serverCert, certificates.serverKey, certificates.caCert, true, List.of());
    }

    @AfterAll
    static void stopTlsRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    private static String[] withTls(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--redis", redis.uri(), "--redis-ca", certificates.caCert.toString(),
                "--redis-cert", certificates.clientCert.toString(), "--redis-key", certificates.clientKey.toString()));
        return all.toArray(String[]::new);
    }

    @Test
    void runAndGetConnectWithTheCaAndClientCertificateGivenAsOptions() {
        TestApp app = TestApp.in(dir).task("tls", 1, 0, 0, 5, 10, "scripts.t.Echo", "").script("t", "function Echo(id) { return id; }");
        Result added = execute(withTls("run", "tasks.tls.add", "\"over TLS\"", "--app", app.dir().toString()));
        assertEquals(0, added.code(), added.err());
        assertEquals("1", added.out(), "the first id of the kind");
        Result got = execute(withTls("get", "tls", "1"));
        assertEquals(0, got.code(), got.err());
        assertTrue(got.out().contains("\"status\" : \"WAITING\"") && got.out().contains("over TLS"), got.out());
    }

    @Test
    void aMissingCaFileAndAPlainUrlToTheTlsPortAreOneLineErrorsThatSaySo() {
        Path missing = dir.resolve("ca.pem");
        Result noCa = execute("get", "tls", "1", "--redis", redis.uri(), "--redis-ca", missing.toString());
        assertEquals(1, noCa.code());
        assertEquals("taskpool: the CA file (TASKPOOL_REDIS_CA / --redis-ca) " + missing + " does not exist or is not a file",
                noCa.err().strip());

        Result plain = execute("get", "tls", "1", "--redis", redis.uri().replace("rediss://", "redis://"));
        assertEquals(1, plain.code());
        assertTrue(plain.err().strip().endsWith("if this is a TLS port, use rediss:// (the server closed a plain-text"
                + " connection, which a TLS-only Redis does)"), plain.err());
    }
}
