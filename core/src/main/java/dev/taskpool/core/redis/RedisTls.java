package dev.taskpool.core.redis;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * The TLS settings of a {@code rediss://} connection beyond what the URL says: a CA to trust (a PEM
 * file, for a Redis whose certificate no public CA signed) and, for mutual TLS, a client certificate
 * and its key (PEM). Each comes from an environment variable ({@link #fromEnvironment()}) and can be
 * given in code or on the command line instead. Without any of them a {@code rediss://} URL trusts the
 * JVM's default CAs, as Lettuce does. A plain value: {@code TlsSetup} (in {@code core.connect}) checks
 * the files and turns them into the connection's TLS options.
 *
 * <p>The handshake is kept short: a {@code rediss://} URL pointed at a plain port (or the
 * reverse) must fail within seconds, saying so, rather than after the command timeout.
 */
public record RedisTls(Path caFile, Path certFile, Path keyFile) {
    public static final String CA_VARIABLE = "TASKPOOL_REDIS_CA";
    public static final String CERT_VARIABLE = "TASKPOOL_REDIS_CERT";
    public static final String KEY_VARIABLE = "TASKPOOL_REDIS_KEY";
    /**
     * How long a TLS handshake may take. A real one takes milliseconds even across regions; what
     * takes longer is a server that does not speak TLS and waits for a command line that never
     * comes, which should fail fast instead of after Lettuce's default of 10 s.
     */
    public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);

    private static final RedisTls NONE = new RedisTls(null, null, null);

    /** No CA, no client certificate: a {@code rediss://} URL trusts the JVM's default CAs. */
    public static RedisTls none() {
        return NONE;
    }

    /** From {@value #CA_VARIABLE}, {@value #CERT_VARIABLE} and {@value #KEY_VARIABLE} (unset or blank: not given). */
    public static RedisTls fromEnvironment() {
        return fromVariables(System::getenv);
    }

    /** From file names as given on a command line; null or blank means not given. */
    public static RedisTls of(String caFile, String certFile, String keyFile) {
        return new RedisTls(path(caFile), path(certFile), path(keyFile));
    }

    static RedisTls fromVariables(UnaryOperator<String> variables) {
        return new RedisTls(path(variables.apply(CA_VARIABLE)), path(variables.apply(CERT_VARIABLE)),
                path(variables.apply(KEY_VARIABLE)));
    }

    private static Path path(String value) {
        return value == null || value.isBlank() ? null : Path.of(value.trim());
    }

    /** The same settings trusting this CA (a PEM file with one or more certificates); null keeps the current one. */
    public RedisTls withCa(Path ca) {
        return ca == null ? this : new RedisTls(ca, certFile, keyFile);
    }

    /** The same settings presenting this client certificate chain and its unencrypted PKCS#8 key (PEM files). */
    public RedisTls withClientCertificate(Path cert, Path key) {
        return new RedisTls(caFile, cert, key);
    }

    /** Whether anything beyond the URL was given. */
    public boolean configured() {
        return caFile != null || certFile != null || keyFile != null;
    }

}
