package dev.taskpool.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * A master, one replica and three Sentinels (quorum 2), real {@code redis-server} processes on free
 * loopback ports, stopped by {@link #close()}. The Sentinels notice a dead master after
 * {@link #DOWN_AFTER} and promote the replica, so a failover test takes seconds, not the default
 * 30 s + 3 min. Sentinel state is read with {@code redis-cli} (it ships with redis-server).
 */
public final class SentinelRedis implements AutoCloseable {
    public static final String MASTER_NAME = "mymaster";
    public static final Duration DOWN_AFTER = Duration.ofMillis(1000);
    private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(5);

    private final List<LocalRedis> servers = new ArrayList<>();
    /** When not null, every server and Sentinel speaks only TLS with certificates of this CA. */
    private final TestCertificates tls;
    private final List<LocalRedis> sentinels = new ArrayList<>();
    private LocalRedis master;
    private LocalRedis replica;

    private SentinelRedis(TestCertificates tls) {
        this.tls = tls;
    }

    private void launch() {
        // No diskless-sync delay: the replica's first sync (and a re-sync after the failover) starts at once.
        List<String> fastSync = List.of("--repl-diskless-sync-delay", "0");
        master = startServer(fastSync);
        servers.add(master);
        List<String> replicaArgs = new ArrayList<>(fastSync);
        replicaArgs.addAll(List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
        replica = startServer(replicaArgs);
        servers.add(replica);
        List<String> settings = List.of(
                "sentinel down-after-milliseconds " + MASTER_NAME + " " + DOWN_AFTER.toMillis(),
                "sentinel failover-timeout " + MASTER_NAME + " " + FAILOVER_TIMEOUT.toMillis(),
                "sentinel parallel-syncs " + MASTER_NAME + " 1");
        for (int i = 0; i < 3; i++) {
            sentinels.add(tls == null ? LocalRedis.startSentinel(MASTER_NAME, master.port(), 2, settings)
                    : LocalRedis.startTlsSentinel(MASTER_NAME, master.port(), 2, settings, tls.serverCert, tls.serverKey,
                            tls.caCert));
        }
    }

    private LocalRedis startServer(List<String> args) {
        if (tls == null) {
            return LocalRedis.startServer(args);
        }
        // The replica connects to its master over TLS as well (tls-replication).
        List<String> tlsArgs = new ArrayList<>(args);
        tlsArgs.addAll(List.of("--tls-replication", "yes"));
        return LocalRedis.startTls(tls.serverCert, tls.serverKey, tls.caCert, false, tlsArgs);
    }

    /**
     * Starts the five processes and returns once the replica is in sync and every Sentinel knows the
     * replica and the two other Sentinels (before that, a failover could not happen).
     */
    public static SentinelRedis start() {
        return start(null);
    }

    /**
     * As {@link #start()}, with the master, the replica and the Sentinels speaking only TLS, with
     * server certificates signed by {@code certificates}' CA: connect with
     * {@code rediss-sentinel://...#mymaster} ({@link #uri()}) and that CA.
     */
    public static SentinelRedis startTls(TestCertificates certificates) {
        return start(Objects.requireNonNull(certificates, "certificates"));
    }

    private static SentinelRedis start(TestCertificates tls) {
        SentinelRedis setup = new SentinelRedis(tls);
        try {
            setup.launch();
            setup.awaitReady(Duration.ofSeconds(30));
            return setup;
        } catch (RuntimeException | Error e) {
            setup.close();
            throw e;
        }
    }

    private void awaitReady(Duration limit) {
        awaitCondition("the replica in sync with the master and every Sentinel knowing the replica and the other two",
                limit, () -> {
                    if (!cli(replica.port(), "INFO", "replication").contains("master_link_status:up")) {
                        return false;
                    }
                    for (LocalRedis sentinel : sentinels) {
                        Map<String, String> state = masterState(sentinel.port());
                        if (!"1".equals(state.get("num-slaves")) || !"2".equals(state.get("num-other-sentinels"))) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    /**
     * {@code redis-sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3#mymaster}, as Lettuce reads it
     * ({@code rediss-sentinel://} when the setup speaks TLS).
     */
    public String uri() {
        return (tls == null ? "redis-sentinel://" : "rediss-sentinel://") + sentinels.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","))
                + "#" + MASTER_NAME;
    }

    /** The master the setup started with (after a failover, no longer the master). */
    public LocalRedis initialMaster() {
        return master;
    }

    public LocalRedis initialReplica() {
        return replica;
    }

    /** The port of the master as the first Sentinel that answers sees it. */
    public int currentMasterPort() {
        RuntimeException last = null;
        for (LocalRedis sentinel : sentinels) {
            try {
                String[] address = cli(sentinel.port(), "SENTINEL", "get-master-addr-by-name", MASTER_NAME).trim().split("\\s+");
                return Integer.parseInt(address[address.length - 1]);
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw new IllegalStateException("no Sentinel answered for " + MASTER_NAME, last);
    }

    /** Waits until every Sentinel names another master than {@code oldMasterPort}; throws on timeout. */
    public void awaitFailover(int oldMasterPort, Duration limit) {
        awaitCondition("every Sentinel naming a new master instead of port " + oldMasterPort, limit, () -> {
            for (LocalRedis sentinel : sentinels) {
                String address = cli(sentinel.port(), "SENTINEL", "get-master-addr-by-name", MASTER_NAME);
                if (address.contains(Integer.toString(oldMasterPort)) || address.isBlank()) {
                    return false;
                }
            }
            return true;
        });
    }

    private Map<String, String> masterState(int sentinelPort) {
        String[] lines = cli(sentinelPort, "SENTINEL", "master", MASTER_NAME).split("\n");
        Map<String, String> state = new HashMap<>();
        for (int i = 0; i + 1 < lines.length; i += 2) {
            state.put(lines[i].trim(), lines[i + 1].trim());
        }
        return state;
    }

    /** Runs redis-cli against a loopback port (over TLS when the setup speaks it) and returns its output (raw, one value a line). */
    String cli(int port, String... args) {
        String binary = LocalRedis.findOnPath("redis-cli");
        if (binary == null) {
            throw new IllegalStateException("redis-cli is not on PATH (it comes with redis-server: apt-get install redis-tools)");
        }
        List<String> command = new ArrayList<>(List.of(binary, "-h", "127.0.0.1", "-p", Integer.toString(port), "--raw"));
        if (tls != null) {
            command.addAll(List.of("--tls", "--cacert", tls.caCert.toString()));
        }
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("redis-cli " + String.join(" ", args) + " did not finish within 5 s");
            }
            String text = new String(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0 || text.startsWith("Could not connect")) {
                throw new IllegalStateException("redis-cli -p " + port + " " + String.join(" ", args) + " failed: " + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run redis-cli: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running redis-cli", e);
        }
    }

    private static void awaitCondition(String what, Duration limit, BooleanSupplier condition) {
        Wait.until(what, limit, condition);
    }

    /** The Sentinels' and servers' log files, for a failing test's message. */
    public String logDirectories() {
        List<String> directories = new ArrayList<>();
        sentinels.forEach(s -> directories.add(s.directory().toString()));
        servers.forEach(s -> directories.add(s.directory().toString()));
        return String.join(", ", directories);
    }

    @Override
    public void close() {
        for (LocalRedis sentinel : sentinels) {
            sentinel.close();
        }
        for (LocalRedis server : servers) {
            server.close();
        }
    }
}
