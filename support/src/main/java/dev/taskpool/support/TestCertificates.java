package dev.taskpool.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate, made by
 * {@code openssl} from PATH at test time (nothing secret is checked in, and nothing expires in the
 * repository). Keys are unencrypted PKCS#8 PEM, as taskpool reads them.
 */
public final class TestCertificates {
    public final Path directory;
    public final Path caCert;
    public final Path serverCert;
    public final Path serverKey;
    public final Path clientCert;
    public final Path clientKey;

    private TestCertificates(Path directory) {
        this.directory = directory;
        this.caCert = directory.resolve("ca.crt");
        this.serverCert = directory.resolve("server.crt");
        this.serverKey = directory.resolve("server.key");
        this.clientCert = directory.resolve("client.crt");
        this.clientKey = directory.resolve("client.key");
    }

    /** Makes the CA, the server and the client certificate in a new temporary directory. */
    public static TestCertificates create() {
        try {
            TestCertificates certificates = new TestCertificates(Files.createTempDirectory("taskpool-tls-"));
            certificates.make();
            return certificates;
        } catch (IOException e) {
            throw new IllegalStateException("cannot make test certificates: " + e.getMessage(), e);
        }
    }

    /** A CA certificate of another, unrelated CA (for "not signed by a trusted CA" cases). */
    public Path otherCaCert() {
        Path other = directory.resolve("other-ca.crt");
        if (!Files.exists(other)) {
            openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", directory.resolve("other-ca.key").toString(), "-out", other.toString(), "-days", "2",
                    "-subj", "/CN=some other CA");
        }
        return other;
    }

    private void make() throws IOException {
        Path caKey = directory.resolve("ca.key");
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", caKey.toString(), "-out", caCert.toString(), "-days", "2", "-subj", "/CN=taskpool test CA");
        sign("server", serverKey, serverCert, caKey, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        sign("client", clientKey, clientCert, caKey, "extendedKeyUsage=clientAuth\n");
    }

    private void sign(String name, Path key, Path cert, Path caKey, String extensions) throws IOException {
        Path request = directory.resolve(name + ".csr");
        Path extensionFile = directory.resolve(name + ".ext");
        Files.writeString(extensionFile, extensions, StandardCharsets.US_ASCII);
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", request.toString(), "-subj", "/CN=taskpool test " + name);
        openssl("x509", "-req", "-in", request.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                "-set_serial", Long.toString(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE)),
                "-out", cert.toString(), "-days", "2", "-extfile", extensionFile.toString());
    }

    private void openssl(String... args) {
        String binary = LocalRedis.findOnPath("openssl");
        if (binary == null) {
            throw new IllegalStateException("openssl is not on PATH; the TLS tests make their certificates with it"
                    + " (install it, e.g. apt-get install openssl)");
        }
        List<String> command = new ArrayList<>();
        command.add(binary);
        command.addAll(List.of(args));
        Path log = directory.resolve("openssl.log");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("openssl " + args[0] + " did not finish within 30 s; see " + log);
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("openssl " + String.join(" ", args) + " exited with " + process.exitValue()
                        + ": " + Files.readString(log));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run openssl: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running openssl", e);
        }
    }
}
