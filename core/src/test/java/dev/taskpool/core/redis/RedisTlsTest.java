package dev.taskpool.core.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** rediss:// against real TLS redis-servers whose CA and certificates openssl made for this run. */
class RedisTlsTest {
    /** Long, so a mismatch that only failed by the command timeout would show in the message, not pass. */
    private static final Duration LONG_COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static TestCertificates certificates;
    private static LocalRedis tlsRedis;
    private static LocalRedis mutualTlsRedis;
    private static LocalRedis plainRedis;

    @BeforeAll
    static void startServers() {
        certificates = TestCertificates.create();
        tlsRedis = LocalRedis.startTls(certificates.serverCert, certificates.serverKey, certificates.caCert, false, List.of());
        mutualTlsRedis = LocalRedis.startTls(certificates.serverCert, certificates.serverKey, certificates.caCert, true,
                List.of());
        plainRedis = LocalRedis.start();
    }

    @AfterAll
    static void stopServers() {
        for (LocalRedis redis : new LocalRedis[] {tlsRedis, mutualTlsRedis, plainRedis}) {
            if (redis != null) {
                redis.close();
            }
        }
    }

    private static RedisTls trustingTestCa() {
        return RedisTls.none().withCa(certificates.caCert);
    }

    private static void assertPings(RedisConnector connector) {
        assertEquals("PONG", connector.sync().ping(), "a command over " + connector.describe());
    }

    @Test
    void aCustomCaGivenAsPemLetsRedissConnect() {
        try (RedisConnector connector = RedisConnector.connect(tlsRedis.uri(), LONG_COMMAND_TIMEOUT, trustingTestCa())) {
            assertPings(connector);
            try (var blocking = connector.newBlockingConnection(); var pubSub = connector.newPubSubConnection()) {
                assertEquals(null, blocking.blpop(Duration.ofMillis(100), "taskpool:{tls}:nothing"),
                        "the blocking connection speaks TLS too (an empty list: nothing popped, no error)");
                assertEquals("PONG", pubSub.sync().ping(), "the pub/sub connection speaks TLS too");
            }
        }
    }

    @Test
    void mutualTlsConnectsWithTheClientCertificateAndIsRefusedWithout() {
        RedisTls withCertificate = trustingTestCa().withClientCertificate(certificates.clientCert, certificates.clientKey);
        try (RedisConnector connector = RedisConnector.connect(mutualTlsRedis.uri(), LONG_COMMAND_TIMEOUT, withCertificate)) {
            assertPings(connector);
        }
        TaskpoolException refused = assertThrows(TaskpoolException.class,
                () -> RedisConnector.connect(mutualTlsRedis.uri(), LONG_COMMAND_TIMEOUT, trustingTestCa()).close(),
                "a server that requires a client certificate refuses a connection without one");
        assertTrue(refused.getMessage().startsWith("cannot connect to Redis at " + mutualTlsRedis.uri()), refused.getMessage());
        assertTrue(refused.getMessage().endsWith("the server asks for a client certificate (mutual TLS): give"
                + " TASKPOOL_REDIS_CERT and TASKPOOL_REDIS_KEY (--redis-cert, --redis-key)"), refused.getMessage());
    }

    @Test
    void aTlsUrlAgainstAPlainPortFailsWithAHintInsteadOfTheCommandTimeout() {
        String tlsUrlToPlainPort = plainRedis.uri().replace("redis://", "rediss://");
        TaskpoolException error = timedFailure("rediss:// against a plain port",
                () -> RedisConnector.connect(tlsUrlToPlainPort, LONG_COMMAND_TIMEOUT, trustingTestCa()).close());
        assertTrue(error.getMessage().contains("is this a plain (non-TLS) port? use redis://"), error.getMessage());
    }

    @Test
    void aPlainUrlAgainstATlsPortFailsWithAHintInsteadOfTheCommandTimeout() {
        String plainUrlToTlsPort = tlsRedis.uri().replace("rediss://", "redis://");
        TaskpoolException error = timedFailure("redis:// against a TLS port",
                () -> RedisConnector.connect(plainUrlToTlsPort, LONG_COMMAND_TIMEOUT, RedisTls.none()).close());
        assertTrue(error.getMessage().contains("if this is a TLS port, use rediss://"), error.getMessage());
    }

    @Test
    void aServerCertificateFromAnotherCaIsRefusedWithAHintAtTheCaOption() {
        TaskpoolException error = timedFailure("an untrusted server certificate", () -> RedisConnector.connect(tlsRedis.uri(),
                LONG_COMMAND_TIMEOUT, RedisTls.none().withCa(certificates.otherCaCert())).close());
        assertTrue(error.getMessage().contains("not signed by a trusted CA: give its CA as a PEM file with --redis-ca"),
                error.getMessage());
    }

    private static TaskpoolException timedFailure(String what, Executable connect) {
        long start = System.nanoTime();
        TaskpoolException error = assertThrows(TaskpoolException.class, connect, what + " must fail");
        // Printed, not asserted (no timed assertions): the figure the README quotes.
        System.out.printf("%s failed after %d ms: %s%n", what, (System.nanoTime() - start) / 1_000_000, error.getMessage());
        assertFalse(error.getMessage().contains("after " + LONG_COMMAND_TIMEOUT.toSeconds() + " second"),
                what + " must not wait for the command timeout: " + error.getMessage());
        return error;
    }

    @Test
    void badTlsSettingsFailBeforeConnectingAndNameTheSetting() throws IOException {
        Path missing = certificates.directory.resolve("no-such-ca.pem");
        assertMessage("the CA file (TASKPOOL_REDIS_CA / --redis-ca) " + missing + " does not exist",
                () -> RedisConnector.connect(tlsRedis.uri(), LONG_COMMAND_TIMEOUT, RedisTls.none().withCa(missing)));
        assertMessage("the CA file (TASKPOOL_REDIS_CA / --redis-ca) " + certificates.clientKey + " is not a PEM certificate file",
                () -> RedisConnector.connect(tlsRedis.uri(), LONG_COMMAND_TIMEOUT, RedisTls.none().withCa(certificates.clientKey)));
        assertMessage("mutual TLS needs both a client certificate (TASKPOOL_REDIS_CERT) and its key (TASKPOOL_REDIS_KEY);"
                        + " only the certificate was given",
                () -> RedisConnector.connect(tlsRedis.uri(), LONG_COMMAND_TIMEOUT,
                        trustingTestCa().withClientCertificate(certificates.clientCert, null)));
        Path pkcs1 = certificates.directory.resolve("pkcs1.key");
        Files.writeString(pkcs1, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        assertMessage("the client key (TASKPOOL_REDIS_KEY) " + pkcs1 + " is a PKCS#1/SEC1 key; convert it to PKCS#8",
                () -> RedisConnector.connect(tlsRedis.uri(), LONG_COMMAND_TIMEOUT,
                        trustingTestCa().withClientCertificate(certificates.clientCert, pkcs1)));
        assertMessage("a TLS CA (TASKPOOL_REDIS_CA / --redis-ca) was given, but the Redis URL is not a TLS URL; use rediss://",
                () -> RedisConnector.connect(plainRedis.uri(), LONG_COMMAND_TIMEOUT, trustingTestCa()));
    }

    @Test
    void settingsComeFromTheEnvironmentVariables() {
        RedisTls tls = RedisTls.fromVariables(Map.of("TASKPOOL_REDIS_CA", "/etc/ca.pem", "TASKPOOL_REDIS_CERT", "/c.pem",
                "TASKPOOL_REDIS_KEY", " ")::get);
        assertEquals(new RedisTls(Path.of("/etc/ca.pem"), Path.of("/c.pem"), null), tls, "a blank variable is not given");
        assertFalse(RedisTls.fromVariables(name -> null).configured(), "no variables, nothing configured");
    }

    private static void assertMessage(String expectedStart, Executable action) {
        TaskpoolException error = assertThrows(TaskpoolException.class, action, expectedStart);
        assertTrue(error.getMessage().startsWith(expectedStart), "expected: " + expectedStart + "\nbut was: " + error.getMessage());
    }
}
