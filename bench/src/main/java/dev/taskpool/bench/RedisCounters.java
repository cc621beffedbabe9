package dev.taskpool.bench;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What Redis itself reports, per master (one standalone Redis, or each master of a Cluster, by
 * address): commands executed (INFO commandstats, including those run inside scripts), CPU used
 * (INFO cpu) and memory. On a Cluster each shard counts only its own work, so the totals sum them.
 */
record RedisCounters(Map<String, Node> byNode) {

    /** One master's counters. */
    record Node(Map<String, Long> commandCalls, long cpuMicros, long usedMemory) {
        long commandsSince(Node before) {
            long total = 0;
            for (var entry : commandCalls.entrySet()) {
                total += entry.getValue() - before.commandCalls().getOrDefault(entry.getKey(), 0L);
            }
            return total;
        }

        long callsSince(Node before, String command) {
            return commandCalls.getOrDefault(command, 0L) - before.commandCalls().getOrDefault(command, 0L);
        }
    }

    static RedisCounters read(RedisConnector redis) {
        Map<String, String> commandstats = redis.infoOfEachMaster("commandstats");
        Map<String, String> cpu = redis.infoOfEachMaster("cpu");
        Map<String, String> memory = redis.infoOfEachMaster("memory");
        Map<String, Node> byNode = new TreeMap<>();
        for (var entry : commandstats.entrySet()) {
            String node = entry.getKey();
            byNode.put(node, new Node(commandCalls(entry.getValue()), cpuMicros(node, cpu.get(node)),
                    field(node, memory.get(node), "used_memory").longValue()));
        }
        return new RedisCounters(byNode);
    }

    static Map<String, Long> commandCalls(String info) {
        Map<String, Long> calls = new HashMap<>();
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("cmdstat_")) {
                String name = line.substring("cmdstat_".length(), line.indexOf(':'));
                String count = line.replaceAll("^cmdstat_[^:]+:calls=(\\d+),.*", "$1");
                calls.merge(name, Long.parseLong(count), Long::sum);
            }
        }
        return calls;
    }

    /** used_cpu_sys + used_cpu_user (seconds, to the microsecond) of the whole server process, in µs. */
    static long cpuMicros(String node, String info) {
        return Math.round((field(node, info, "used_cpu_sys").doubleValue() + field(node, info, "used_cpu_user").doubleValue()) * 1e6);
    }

    private static Number field(String node, String info, String name) {
        if (info != null) {
            for (String line : info.split("\r?\n")) {
                if (line.startsWith(name + ":")) {
                    return Double.parseDouble(line.substring(name.length() + 1).trim());
                }
            }
        }
        // A master that joined or left between the INFO calls, or a Redis that hides the field.
        throw new TaskpoolException("INFO of Redis node " + node + " has no " + name + " field");
    }

    /** Commands executed between {@code before} and this snapshot, of every kind, over every master. */
    long commandsSince(RedisCounters before) {
        return byNode.entrySet().stream().mapToLong(entry -> entry.getValue().commandsSince(before.node(entry.getKey()))).sum();
    }

    long callsSince(RedisCounters before, String command) {
        return byNode.entrySet().stream().mapToLong(entry -> entry.getValue().callsSince(before.node(entry.getKey()), command)).sum();
    }

    /** Redis CPU (sys + user) spent since {@code before}, over every master, in µs. */
    long cpuMicrosSince(RedisCounters before) {
        return byNode.entrySet().stream().mapToLong(entry -> entry.getValue().cpuMicros() - before.node(entry.getKey()).cpuMicros()).sum();
    }

    long usedMemory() {
        return byNode.values().stream().mapToLong(Node::usedMemory).sum();
    }

    /**
     * One master's counters; throws when the snapshot has none for it: the set of masters changed
     * during the run (a failover), and per-shard figures would compare different servers.
     */
    Node node(String address) {
        Node node = byNode.get(address);
        if (node == null) {
            throw new TaskpoolException("Redis master " + address + " was not a master when the benchmark started (masters then: "
                    + byNode.keySet() + "); the topology changed during the run, so its counters cannot be compared");
        }
        return node;
    }
}
