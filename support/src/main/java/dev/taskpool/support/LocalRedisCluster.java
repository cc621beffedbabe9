package dev.taskpool.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A throwaway Redis Cluster of real {@code redis-server} processes on loopback ports (masters with
 * one replica each), made with {@code redis-cli --cluster create} and stopped by {@link #close()}.
 * Each node is a {@link LocalRedis}, so a test can kill, pause or restart it. Ports are at most
 * 55535 because a node's cluster bus listens on its port + 10000.
 */
public final class LocalRedisCluster implements AutoCloseable {
    private static final int HIGHEST_PORT = 65535 - 10000;
    private static final int LOWEST_PORT = 20000;

    private final List<LocalRedis> nodes;
    private final Duration nodeTimeout;

    private LocalRedisCluster(List<LocalRedis> nodes, Duration nodeTimeout) {
        this.nodes = nodes;
        this.nodeTimeout = nodeTimeout;
    }

    /**
     * Starts {@code masters} masters with one replica each; {@code nodeTimeout} is how long a node
     * may stay silent before the others count it as failed and promote its replica.
     */
    public static LocalRedisCluster start(int masters, Duration nodeTimeout) {
        String cli = LocalRedis.findOnPath("redis-cli");
        if (cli == null) {
            throw new IllegalStateException("redis-cli is not on PATH; install it (e.g. apt-get install redis-tools)");
        }
        List<LocalRedis> nodes = new ArrayList<>();
        try {
            Set<Integer> taken = new HashSet<>();
            for (int i = 0; i < masters * 2; i++) {
                int port = freeNodePort(taken);
                nodes.add(LocalRedis.startServer(port, List.of("--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", Long.toString(nodeTimeout.toMillis()),
                        // a replica takes over however long it was cut off from its master
                        "--cluster-replica-validity-factor", "0",
                        // the shards that are up keep serving while one fails over
                        "--cluster-require-full-coverage", "no")));
            }
            List<String> create = new ArrayList<>(List.of(cli, "--cluster", "create"));
            nodes.forEach(node -> create.add("127.0.0.1:" + node.port()));
            create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
            run(create, Duration.ofSeconds(60));
            LocalRedisCluster cluster = new LocalRedisCluster(List.copyOf(nodes), nodeTimeout);
            cluster.awaitHealthy(Duration.ofSeconds(30));
            return cluster;
        } catch (RuntimeException e) {
            nodes.forEach(LocalRedis::close);
            throw e;
        }
    }

    /** A free loopback port whose cluster bus port (+10000) is free as well. */
    private static int freeNodePort(Set<Integer> taken) {
        for (int tries = 0; tries < 200; tries++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST_PORT, HIGHEST_PORT + 1);
            if (!taken.contains(port) && !taken.contains(port + 10000) && canBind(port) && canBind(port + 10000)) {
                taken.add(port);
                taken.add(port + 10000);
                return port;
            }
        }
        throw new IllegalStateException("found no free loopback port pair (port, port + 10000) between " + LOWEST_PORT
                + " and " + HIGHEST_PORT + " in 200 tries");
    }

    private static boolean canBind(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A URL naming one node: taskpool finds the Cluster from it. */
    public String uri() {
        return nodes.getFirst().uri();
    }

    /** A URL listing every node as a seed. */
    public String seedsUri() {
        return "redis://" + nodes.stream().map(node -> "127.0.0.1:" + node.port()).collect(Collectors.joining(","));
    }

    public List<LocalRedis> nodes() {
        return nodes;
    }

    public Duration nodeTimeout() {
        return nodeTimeout;
    }

    /** {@code redis-cli -p <node> args...}: its output, or an exception naming the command and what it printed. */
    public String cli(LocalRedis node, String... args) {
        return cli(node, Duration.ofSeconds(10), args);
    }

    private String cli(LocalRedis node, Duration limit, String... args) {
        List<String> command = new ArrayList<>(List.of(LocalRedis.findOnPath("redis-cli"), "-h", "127.0.0.1",
                "-p", Integer.toString(node.port())));
        command.addAll(List.of(args));
        return run(command, limit);
    }

    /** The slot of a key (CLUSTER KEYSLOT), asked of any node that answers. */
    public int slotOf(String key) {
        return Integer.parseInt(cli(anyLiving(), "CLUSTER", "KEYSLOT", key).trim());
    }

    /** The node that a living node's view names as the master serving {@code slot}. */
    public LocalRedis masterOf(int slot) {
        for (String[] line : clusterNodes(anyLiving())) {
            if (line[2].contains("master") && !line[2].contains("fail") && servesSlot(line, slot)) {
                return nodeAt(line[1]);
            }
        }
        throw new IllegalStateException("no master serves slot " + slot + " in the view of " + anyLiving());
    }

    /**
     * Moves {@code slot} and its keys to master {@code to} as resharding does, while clients keep
     * working: the target imports, the source migrates, the keys go over with MIGRATE in batches
     * (a command meanwhile is redirected with ASK, or told TRYAGAIN when its keys are split), then
     * every master is told the slot's new owner.
     */
    public void moveSlot(int slot, LocalRedis to) {
        LocalRedis from = masterOf(slot);
        if (from == to) {
            return;
        }
        String fromId = cli(from, "CLUSTER", "MYID").trim();
        String toId = cli(to, "CLUSTER", "MYID").trim();
        cli(to, "CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", fromId);
        cli(from, "CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", toId);
        while (true) {
            List<String> keys = cli(from, "CLUSTER", "GETKEYSINSLOT", Integer.toString(slot), "100").lines()
                    .filter(line -> !line.isBlank()).toList();
            if (keys.isEmpty()) {
                break;
            }
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", Integer.toString(to.port()), "", "0",
                    "10000", "KEYS"));
            migrate.addAll(keys);
            cli(from, migrate.toArray(String[]::new));
        }
        for (LocalRedis master : List.of(to, from)) {
            cli(master, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", toId);
        }
        for (LocalRedis master : masters()) {
            if (master != to && master != from) {
                cli(master, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", toId);
            }
        }
    }

    /** A replica of {@code master}, in the view of a living node. */
    public LocalRedis replicaOf(LocalRedis master) {
        String[] masterLine = clusterNodes(anyLiving()).stream().filter(line -> nodeAt(line[1]) == master).findFirst()
                .orElseThrow(() -> new IllegalStateException(master + " is not in the cluster"));
        return clusterNodes(anyLiving()).stream().filter(line -> line[3].equals(masterLine[0]) && !line[2].contains("fail"))
                .map(line -> nodeAt(line[1])).findFirst()
                .orElseThrow(() -> new IllegalStateException(master + " has no living replica"));
    }

    /** The masters, in the view of a living node. */
    public List<LocalRedis> masters() {
        return clusterNodes(anyLiving()).stream().filter(line -> line[2].contains("master") && !line[2].contains("fail"))
                .map(line -> nodeAt(line[1])).toList();
    }

    private static boolean servesSlot(String[] line, int slot) {
        for (int i = 8; i < line.length; i++) {
            if (line[i].startsWith("[")) {
                continue;   // a slot being migrated
            }
            String[] range = line[i].split("-");
            int from = Integer.parseInt(range[0]);
            int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
            if (slot >= from && slot <= to) {
                return true;
            }
        }
        return false;
    }

    private List<String[]> clusterNodes(LocalRedis node) {
        return cli(node, "CLUSTER", "NODES").lines().filter(line -> !line.isBlank()).map(line -> line.split(" ")).toList();
    }

    private LocalRedis nodeAt(String address) {
        // "127.0.0.1:7000@17000"
        int port = Integer.parseInt(address.substring(address.indexOf(':') + 1, address.indexOf('@')));
        return nodes.stream().filter(node -> node.port() == port).findFirst()
                .orElseThrow(() -> new IllegalStateException("no node of this cluster on port " + port));
    }

    private LocalRedis anyLiving() {
        for (LocalRedis node : nodes) {
            if (node.process().isAlive() && answers(node)) {
                return node;
            }
        }
        throw new IllegalStateException("no node of the cluster answers");
    }

    private boolean answers(LocalRedis node) {
        try {
            return cli(node, Duration.ofSeconds(1), "PING").trim().equals("PONG");
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Waits until every node that runs and answers says the cluster is ok, every slot has a master
     * and every master has a replica whose link to it is up; throws after {@code limit}.
     */
    public void awaitHealthy(Duration limit) {
        Wait.until("the Redis Cluster on ports " + nodes.stream().map(LocalRedis::port).toList()
                + " to be ok on every living node, every master with a synced replica", limit, () -> {
            for (LocalRedis node : nodes) {
                if (!node.process().isAlive() || !answers(node)) {
                    continue;
                }
                if (!cli(node, "CLUSTER", "INFO").contains("cluster_state:ok")) {
                    return false;
                }
                String replication = cli(node, "INFO", "replication");
                if (replication.contains("role:slave") && !replication.contains("master_link_status:up")) {
                    return false;
                }
            }
            String info = cli(anyLiving(), "CLUSTER", "INFO");
            return info.contains("cluster_slots_ok:16384") && masters().stream().allMatch(master -> {
                try {
                    return replicaOf(master) != null;
                } catch (IllegalStateException e) {
                    return false;
                }
            });
        });
    }

    /** Runs a command to its end; its output goes through a file so that a stalled command cannot block the read. */
    private static String run(List<String> command, Duration limit) {
        Path output = null;
        try {
            output = Files.createTempFile("taskpool-redis-cli-", ".out");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not end within " + limit.toMillis() + " ms");
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0 || text.startsWith("ERR") || text.startsWith("(error)")) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            if (output != null) {
                output.toFile().delete();
            }
        }
    }

    @Override
    public void close() {
        for (LocalRedis node : nodes) {
            try {
                if (node.process().isAlive()) {
                    node.resume();   // a paused node does not stop on SIGTERM
                }
            } catch (RuntimeException ignored) {
                // it is being stopped anyway
            }
            node.close();
        }
    }
}
