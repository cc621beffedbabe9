package dev.taskpool.core.redis;

import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * The TLS settings of a {@code rediss://} connection beyond what the URL says: a CA to trust (a PEM
 * file, for a Redis whose certificate no public CA signed) and, for mutual TLS, a client certificate
 * and its key (PEM). Each comes from an environment variable ({@link #fromEnvironment()}) and can be
 * given in code or on the command line instead. Without any of them a {@code rediss://} URL trusts the
 * JVM's default CAs, as Lettuce does.
 *
 * <p>It also keeps the handshake short: a {@code rediss://} URL pointed at a plain port (or the
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

    /**
     * The SSL options for Lettuce's client options: checks the files first, so a wrong path or a key
     * in the wrong format fails here with its name rather than deep in a handshake.
     *
     * @throws TaskpoolException naming the setting that is wrong
     */
    public SslOptions sslOptions(RedisURI uri) {
        if (configured() && !uri.isSsl()) {
            throw new TaskpoolException("a TLS " + describeGiven() + " was given, but the Redis URL is not a TLS URL;"
                    + " use rediss:// (or rediss-sentinel://) to connect with TLS, or remove that setting to connect without");
        }
        SslOptions.Builder options = SslOptions.builder().jdkSslProvider().handshakeTimeout(HANDSHAKE_TIMEOUT);
        if (caFile != null) {
            checkCertificates(caFile, "the CA file (" + CA_VARIABLE + " / --redis-ca)");
            options.trustManager(caFile.toFile());
        }
        if ((certFile == null) != (keyFile == null)) {
            throw new TaskpoolException("mutual TLS needs both a client certificate (" + CERT_VARIABLE + ") and its key ("
                    + KEY_VARIABLE + "); only the " + (certFile != null ? "certificate" : "key") + " was given");
        }
        if (certFile != null) {
            checkCertificates(certFile, "the client certificate (" + CERT_VARIABLE + ")");
            checkKey(keyFile);
            options.keyManager(certFile.toFile(), keyFile.toFile(), new char[0]);
        }
        return options.build();
    }

    private String describeGiven() {
        StringBuilder given = new StringBuilder();
        if (caFile != null) {
            given.append("CA (").append(CA_VARIABLE).append(" / --redis-ca)");
        }
        if (certFile != null || keyFile != null) {
            given.append(given.isEmpty() ? "" : " and ").append("client certificate (").append(CERT_VARIABLE).append(", ")
                    .append(KEY_VARIABLE).append(")");
        }
        return given.toString();
    }

    private static void checkCertificates(Path file, String what) {
        requireReadable(file, what);
        try (InputStream in = Files.newInputStream(file)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new TaskpoolException(what + " " + file + " holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)");
            }
        } catch (CertificateException e) {
            throw new TaskpoolException(what + " " + file + " is not a PEM certificate file: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new TaskpoolException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
    }

    private static void checkKey(Path file) {
        String what = "the client key (" + KEY_VARIABLE + ")";
        requireReadable(file, what);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new TaskpoolException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        // The JDK reads only PKCS#8 keys; older tools write RSA (PKCS#1) or EC (SEC1) PEM, which fail
        // later with an unhelpful "Neither RSA, DSA nor EC worked".
        if (text.contains("-----BEGIN RSA PRIVATE KEY-----") || text.contains("-----BEGIN EC PRIVATE KEY-----")) {
            throw new TaskpoolException(what + " " + file + " is a PKCS#1/SEC1 key; convert it to PKCS#8 with"
                    + " `openssl pkcs8 -topk8 -nocrypt -in " + file + " -out client-key.pk8.pem`");
        }
        if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
            throw new TaskpoolException(what + " " + file + " is encrypted; give an unencrypted PKCS#8 key"
                    + " (`openssl pkcs8 -topk8 -nocrypt`) kept readable only by the worker's user");
        }
        if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new TaskpoolException(what + " " + file + " holds no PEM private key (expected -----BEGIN PRIVATE KEY-----)");
        }
    }

    private static void requireReadable(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new TaskpoolException(what + " " + file + " does not exist or is not a file");
        }
        if (!Files.isReadable(file)) {
            throw new TaskpoolException(what + " " + file + " is not readable by this user");
        }
    }

    /**
     * A hint to append to a connection failure when it looks like TLS spoken to a plain port or plain
     * text to a TLS port; empty when nothing suggests that.
     */
    public static String mismatchHint(RedisURI uri, Throwable error) {
        String messages = allMessages(error).toLowerCase(Locale.ROOT);
        if (uri.isSsl()) {
            if (messages.contains("not an ssl/tls record") || messages.contains("unrecognized ssl message")
                    || messages.contains("handshake timed out") || messages.contains("sslhandshaketimeout")
                    || messages.contains("connection closed prematurely") || messages.contains("closed during handshake")) {
                return "; the URL asks for TLS (rediss://) but the server did not answer a TLS handshake:"
                        + " is this a plain (non-TLS) port? use redis:// for it, or the server's tls-port";
            }
            if (messages.contains("pkix path") || messages.contains("unable to find valid certification path")) {
                return "; the server's certificate is not signed by a trusted CA: give its CA as a PEM file with --redis-ca"
                        + " or " + CA_VARIABLE;
            }
            if (messages.contains("no subject alternative") || messages.contains("no name matching")) {
                return "; the server's certificate does not name the host in the URL: connect by a name or IP its"
                        + " certificate lists (subjectAltName)";
            }
            if (messages.contains("certificate_required") || messages.contains("bad_certificate")) {
                return "; the server asks for a client certificate (mutual TLS): give " + CERT_VARIABLE + " and " + KEY_VARIABLE
                        + " (--redis-cert, --redis-key)";
            }
            return "";
        }
        // A TLS-only server closes a plain-text connection at once: Lettuce says so as a reset, a
        // closed connection, or (when it closed before Lettuce finished setting the channel up)
        // "RedisHandshakeHandler not registered".
        if (messages.contains("connection reset") || messages.contains("connection closed")
                || messages.contains("handshakehandler not registered")) {
            return "; if this is a TLS port, use rediss:// (the server closed a plain-text connection,"
                    + " which a TLS-only Redis does)";
        }
        return "";
    }

    private static String allMessages(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            text.append(cause.getClass().getSimpleName()).append(": ").append(cause.getMessage()).append(" | ");
            for (Throwable suppressed : cause.getSuppressed()) {
                text.append(suppressed.getClass().getSimpleName()).append(": ").append(suppressed.getMessage()).append(" | ");
            }
        }
        return text.toString();
    }
}
