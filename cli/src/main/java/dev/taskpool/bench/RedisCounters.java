package dev.taskpool.bench;

import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.HashMap;
import java.util.Map;

/** What Redis itself reports: commands executed (INFO commandstats, including those run inside scripts) and memory. */
record RedisCounters(Map<String, Long> commandCalls, long usedMemory) {

    static RedisCounters read(RedisClusterCommands<String, String> redis) {
        Map<String, Long> calls = new HashMap<>();
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_")) {
                String name = line.substring("cmdstat_".length(), line.indexOf(':'));
                String count = line.replaceAll("^cmdstat_[^:]+:calls=(\\d+),.*", "$1");
                calls.put(name, Long.parseLong(count));
            }
        }
        long memory = redis.info("memory").lines().filter(line -> line.startsWith("used_memory:")).findFirst()
                .map(line -> Long.parseLong(line.substring("used_memory:".length()).trim())).orElse(0L);
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
