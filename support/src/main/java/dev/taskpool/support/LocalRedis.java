package dev.taskpool.support;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway {@code redis-server} from PATH on a free loopback port, in a temporary directory,
 * stopped by {@link #close()}: the tests' Redis when no Docker engine answers ({@link TestRedis}
 * tries a container first). Needs nothing but the JDK. (The demo has a launcher of its own in the
 * command line, which ships no test scaffolding.)
 */
public final class LocalRedis implements AutoCloseable {
    private final String uri;
    private Process process;
    private final List<String> command;
    private final Path directory;
    private final int port;
    private final String description;
    /** A TLS-only server does not answer a plain PING; an open port is then taken as ready. */
    private final boolean tls;

    private LocalRedis(String uri, int port, Process process, List<String> command, Path directory, String description) {
        this(uri, port, process, command, directory, description, false);
    }

    private LocalRedis(String uri, int port, Process process, List<String> command, Path directory, String description,
                       boolean tls) {
        this.tls = tls;
        this.uri = uri;
        this.port = port;
        this.process = process;
        this.command = command;
        this.directory = directory;
        this.description = description;
    }

    /** Starts {@code redis-server} from PATH; fails with a message saying what to install. */
    public static LocalRedis start() {
        return startServer(List.of());
    }

    /** Starts {@code redis-server} from PATH with extra arguments (e.g. AOF settings). */
    public static LocalRedis startServer(List<String> extraArgs) {
        String binary = findOnPath("redis-server");
        if (binary == null) {
            throw new IllegalStateException("redis-server is not on PATH; install it (e.g. apt-get install redis-server)"
                    + " or give a Redis URL");
        }
        try {
            return startServer(binary, freePort(), extraArgs);
        } catch (IOException e) {
            throw new IllegalStateException("cannot find a free port for redis-server: " + e.getMessage(), e);
        }
    }

    /** Starts {@code redis-server} from PATH on the given loopback port (e.g. a Cluster node's). */
    public static LocalRedis startServer(int port, List<String> extraArgs) {
        String binary = findOnPath("redis-server");
        if (binary == null) {
            throw new IllegalStateException("redis-server is not on PATH; install it (e.g. apt-get install redis-server)");
        }
        return startServer(binary, port, extraArgs);
    }

    private static LocalRedis startServer(String binary, int port, List<String> extraArgs) {
        try {
            Path directory = Files.createTempDirectory("taskpool-redis-");
            List<String> command = new ArrayList<>(List.of(binary, "--port", Integer.toString(port),
                    "--bind", "127.0.0.1", "--dir", directory.toString(), "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--logfile", directory.resolve("redis.log").toString()));
            command.addAll(extraArgs);
            Process process = launch(command, directory);
            LocalRedis redis = new LocalRedis("redis://127.0.0.1:" + port, port, process, List.copyOf(command), directory,
                    "redis-server on 127.0.0.1:" + port);
            redis.awaitReady(Duration.ofSeconds(10));
            return redis;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server: " + e.getMessage(), e);
        }
    }

    /**
     * Starts {@code redis-server} from PATH speaking only TLS (plain port 0) on a free port, with this
     * certificate and key and this CA for client certificates; {@code requireClientCertificate} makes it
     * mutual TLS. Its {@link #uri()} is {@code rediss://127.0.0.1:port}.
     */
    public static LocalRedis startTls(Path certFile, Path keyFile, Path caFile, boolean requireClientCertificate,
                                      List<String> extraArgs) {
        String binary = requireBinary();
        try {
            Path directory = Files.createTempDirectory("taskpool-redis-tls-");
            int port = freePort();
            List<String> command = new ArrayList<>(List.of(binary, "--port", "0", "--tls-port", Integer.toString(port),
                    "--tls-cert-file", certFile.toString(), "--tls-key-file", keyFile.toString(),
                    "--tls-ca-cert-file", caFile.toString(), "--tls-auth-clients", requireClientCertificate ? "yes" : "no",
                    "--bind", "127.0.0.1", "--dir", directory.toString(), "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--logfile", directory.resolve("redis.log").toString()));
            command.addAll(extraArgs);
            Process process = launch(command, directory);
            LocalRedis redis = new LocalRedis("rediss://127.0.0.1:" + port, port, process, List.copyOf(command), directory,
                    "TLS redis-server on 127.0.0.1:" + port, true);
            redis.awaitReady(Duration.ofSeconds(10));
            return redis;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server with TLS: " + e.getMessage(), e);
        }
    }

    /**
     * Starts a Sentinel ({@code redis-server <config> --sentinel}) on a free port watching the master
     * {@code masterName} at 127.0.0.1:{@code masterPort}; {@code settings} are extra lines of its
     * config file (e.g. {@code sentinel down-after-milliseconds mymaster 1000}). Sentinel rewrites its
     * config file, so it lives in the server's own temporary directory.
     */
    public static LocalRedis startSentinel(String masterName, int masterPort, int quorum, List<String> settings) {
        return startSentinel(masterName, masterPort, quorum, settings, null);
    }

    /**
     * As {@link #startSentinel(String, int, int, List)}, speaking only TLS (plain port 0) with this
     * server certificate, key and CA, to its clients and to the master, replicas and other Sentinels
     * ({@code tls-replication yes}); clients need no certificate of their own.
     */
    public static LocalRedis startTlsSentinel(String masterName, int masterPort, int quorum, List<String> settings,
                                              Path certFile, Path keyFile, Path caFile) {
        return startSentinel(masterName, masterPort, quorum, settings, List.of(certFile, keyFile, caFile));
    }

    private static LocalRedis startSentinel(String masterName, int masterPort, int quorum, List<String> settings,
                                            List<Path> tlsFiles) {
        String binary = requireBinary();
        boolean tls = tlsFiles != null;
        try {
            Path directory = Files.createTempDirectory("taskpool-sentinel-");
            int port = freePort();
            List<String> lines = new ArrayList<>(tls
                    ? List.of("port 0", "tls-port " + port, "tls-cert-file " + tlsFiles.get(0), "tls-key-file " + tlsFiles.get(1),
                            "tls-ca-cert-file " + tlsFiles.get(2), "tls-auth-clients no", "tls-replication yes")
                    : List.of("port " + port));
            lines.addAll(List.of("bind 127.0.0.1", "dir " + directory,
                    "daemonize no", "logfile " + directory.resolve("sentinel.log"),
                    "sentinel monitor " + masterName + " 127.0.0.1 " + masterPort + " " + quorum));
            lines.addAll(settings);
            Path config = directory.resolve("sentinel.conf");
            Files.write(config, lines);
            List<String> command = List.of(binary, config.toString(), "--sentinel");
            Process process = launch(command, directory);
            LocalRedis sentinel = new LocalRedis((tls ? "rediss://" : "redis://") + "127.0.0.1:" + port, port, process, command,
                    directory, (tls ? "TLS redis sentinel on 127.0.0.1:" : "redis sentinel on 127.0.0.1:") + port, tls);
            sentinel.awaitReady(Duration.ofSeconds(10));
            return sentinel;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a redis sentinel: " + e.getMessage(), e);
        }
    }

    private static String requireBinary() {
        String binary = findOnPath("redis-server");
        if (binary == null) {
            throw new IllegalStateException("redis-server is not on PATH; install it (e.g. apt-get install redis-server)");
        }
        return binary;
    }

    private static Process launch(List<String> command, Path directory) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(directory.resolve("stdout.log").toFile())).start();
    }

    /** kill -9: the server dies at once, as in a crash (what it keeps depends on its AOF settings). */
    public void kill() {
        requireServer();
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the server again on the same port and directory, with the same settings. */
    public void restart() {
        requireServer();
        if (process.isAlive()) {
            throw new IllegalStateException("redis-server on port " + port + " is still running");
        }
        try {
            process = launch(command, directory);
        } catch (IOException e) {
            throw new IllegalStateException("cannot restart redis-server: " + e.getMessage(), e);
        }
        awaitReady(Duration.ofSeconds(10));
    }

    /** SIGSTOP: the server stops answering (connections stay open) until {@link #resume()}. */
    public void pause() {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        requireServer();
        try {
            int code = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
            if (code != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " exited with " + code);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot send SIG" + name + " to redis-server: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void requireServer() {
        if (process == null) {
            throw new IllegalStateException("only a redis-server started from PATH can be killed, restarted or paused");
        }
    }

    /** Waits until the server answers PING. */
    public void awaitReady(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + "; see " + directory);
            }
            if (ping()) {
                return;
            }
            sleep(20);
        }
        close();
        throw new IllegalStateException("redis-server did not answer PING within " + limit.toSeconds() + "s; see " + directory);
    }

    private boolean ping() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            if (tls) {
                return true;
            }
            socket.setSoTimeout(500);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = new byte[7];
            int read = in.read(reply);
            return read > 0 && new String(reply, 0, read, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    public String uri() {
        return uri;
    }

    public int port() {
        return port;
    }

    /** The current process of a {@code redis-server} started from PATH. */
    public Process process() {
        return process;
    }

    public Path directory() {
        return directory;
    }

    @Override
    public String toString() {
        return description;
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (directory != null) {
            try (Stream<Path> files = Files.walk(directory)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException ignored) {
                // a leftover temporary directory is harmless
            }
        }
    }

    static String findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/usr/sbin")) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for redis-server", e);
        }
    }
}
