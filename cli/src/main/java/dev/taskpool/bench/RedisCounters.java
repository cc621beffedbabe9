package dev.taskpool.bench;

import dev.taskpool.core.redis.RedisConnector;
import java.util.HashMap;
import java.util.Map;

/** What Redis itself reports: commands executed (INFO commandstats, including those run inside scripts) and memory. */
record RedisCounters(Map<String, Long> commandCalls, long usedMemory) {

    /** Summed over every master: on a Cluster each shard counts only its own commands. */
    static RedisCounters read(RedisConnector redis) {
        Map<String, Long> calls = new HashMap<>();
        for (String info : redis.infoOfEachMaster("commandstats").values()) {
            for (String line : info.split("\r?\n")) {
                if (line.startsWith("cmdstat_")) {
                    String name = line.substring("cmdstat_".length(), line.indexOf(':'));
                    String count = line.replaceAll("^cmdstat_[^:]+:calls=(\\d+),.*", "$1");
                    calls.merge(name, Long.parseLong(count), Long::sum);
                }
            }
        }
        long memory = redis.infoOfEachMaster("memory").values().stream().mapToLong(info -> info.lines()
                .filter(line -> line.startsWith("used_memory:")).findFirst()
                .map(line -> Long.parseLong(line.substring("used_memory:".length()).trim())).orElse(0L)).sum();
        return new RedisCounters(calls, memory);
    }

    /** Commands executed between {@code before} and this snapshot, of every kind. */
    long commandsSince(RedisCounters before) {
        long total = 0;
        for (var entry : commandCalls.entrySet()) {
            total += entry.getValue() - before.commandCalls().getOrDefault(entry.getKey(), 0L);
        }
        return total;
    }

    long callsSince(RedisCounters before, String command) {
        return commandCalls.getOrDefault(command, 0L) - before.commandCalls().getOrDefault(command, 0L);
    }
}
