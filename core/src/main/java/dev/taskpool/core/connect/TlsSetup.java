package dev.taskpool.core.connect;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.redis.RedisTls;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Locale;

/**
 * What {@link RedisTls} settings mean for a connection: the TLS options Lettuce connects with, the
 * checks of the PEM files behind them (a wrong file fails here, naming the setting, rather than
 * deep in a handshake), and the hint added to a failed connection that looks like TLS spoken to a
 * plain port or the reverse.
 */
final class TlsSetup {
    private TlsSetup() {
    }

    /**
     * The SSL options for Lettuce's client options: checks the files first, so a wrong path or a key
     * in the wrong format fails here with its name rather than deep in a handshake.
     *
     * @throws TaskpoolException naming the setting that is wrong
     */
    static SslOptions sslOptions(RedisTls tls, RedisURI uri) {
        if (tls.configured() && !uri.isSsl()) {
            throw new TaskpoolException("a TLS " + describeGiven(tls) + " was given, but the Redis URL is not a TLS URL;"
                    + " use rediss:// (or rediss-sentinel://) to connect with TLS, or remove that setting to connect without");
        }
        SslOptions.Builder options = SslOptions.builder().jdkSslProvider().handshakeTimeout(RedisTls.HANDSHAKE_TIMEOUT);
        if (tls.caFile() != null) {
            checkCertificates(tls.caFile(), "the CA file (" + RedisTls.CA_VARIABLE + " / --redis-ca)");
            options.trustManager(tls.caFile().toFile());
        }
        if ((tls.certFile() == null) != (tls.keyFile() == null)) {
            throw new TaskpoolException("mutual TLS needs both a client certificate (" + RedisTls.CERT_VARIABLE + ") and its key ("
                    + RedisTls.KEY_VARIABLE + "); only the " + (tls.certFile() != null ? "certificate" : "key") + " was given");
        }
        if (tls.certFile() != null) {
            checkCertificates(tls.certFile(), "the client certificate (" + RedisTls.CERT_VARIABLE + ")");
            checkKey(tls.keyFile());
            options.keyManager(tls.certFile().toFile(), tls.keyFile().toFile(), new char[0]);
        }
        return options.build();
    }

    private static String describeGiven(RedisTls tls) {
        StringBuilder given = new StringBuilder();
        if (tls.caFile() != null) {
            given.append("CA (").append(RedisTls.CA_VARIABLE).append(" / --redis-ca)");
        }
        if (tls.certFile() != null || tls.keyFile() != null) {
            given.append(given.isEmpty() ? "" : " and ").append("client certificate (").append(RedisTls.CERT_VARIABLE).append(", ")
                    .append(RedisTls.KEY_VARIABLE).append(")");
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
        String what = "the client key (" + RedisTls.KEY_VARIABLE + ")";
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
    static String mismatchHint(RedisURI uri, Throwable error) {
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
                        + " or " + RedisTls.CA_VARIABLE;
            }
            if (messages.contains("no subject alternative") || messages.contains("no name matching")) {
                return "; the server's certificate does not name the host in the URL: connect by a name or IP its"
                        + " certificate lists (subjectAltName)";
            }
            if (messages.contains("certificate_required") || messages.contains("bad_certificate")) {
                return "; the server asks for a client certificate (mutual TLS): give " + RedisTls.CERT_VARIABLE + " and " + RedisTls.KEY_VARIABLE
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
