package dev.taskpool.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.worker.script.HostBridge;
import dev.taskpool.worker.script.ScriptEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A CPU-heavy script on one pooled context, repeated: the first rounds warm the engine up (and
 * let the optimizing compiler work, when it is there); the median of the last rounds is reported.
 */
public final class ScriptCpuBench {
    private ScriptCpuBench() {
    }

    public static ObjectNode run(int rounds) throws IOException {
        Path app = Files.createTempDirectory("taskpool-cpu-");
        Files.createDirectories(app.resolve("scripts"));
        Files.writeString(app.resolve("scripts/cpu.js"), """
                // Calls, arithmetic, objects and strings in JavaScript itself (not in built-ins),
                // the kind of work a processor does when it computes.
                function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
                function Work() {
                  let checksum = fib(22);
                  const points = [];
                  for (let i = 0; i < 2000; i++) points.push({ x: i % 37, y: (i * 7919) % 101 });
                  for (let round = 0; round < 20; round++) {
                    for (const p of points) checksum = (checksum + p.x * p.y + round) % 1000003;
                  }
                  let text = '';
                  for (let i = 0; i < 500; i++) text += String.fromCharCode(97 + (i % 26));
                  for (let i = 0; i < text.length; i++) checksum = (checksum * 31 + text.charCodeAt(i)) % 1000003;
                  return checksum;
                }
                """);
        HostBridge bridge = new HostBridge() {
            @Override
            public Object process(String name, List<Object> args) {
                throw new IllegalStateException("no processes in the CPU benchmark");
            }

            @Override
            public void progress(List<Object> args) {
            }

            @Override
            public void log(String level, String text) {
            }
        };
        double[] millis = new double[rounds];
        String implementation;
        try (ScriptEngine scripts = ScriptEngine.load(app, bridge)) {
            implementation = scripts.implementationName();
            for (int i = 0; i < rounds; i++) {
                long start = System.nanoTime();
                scripts.call("cpu", "Work", List.of());
                millis[i] = (System.nanoTime() - start) / 1e6;
            }
        }
        int measured = Math.max(1, rounds / 3);
        double[] last = Arrays.copyOfRange(millis, rounds - measured, rounds);
        Arrays.sort(last);
        ObjectNode node = Json.NODES.objectNode();
        node.put("engine", implementation);
        node.put("rounds", rounds);
        node.put("first_round_ms", Math.round(millis[0] * 100) / 100.0);
        node.put("median_ms_of_last_rounds", Math.round(last[last.length / 2] * 100) / 100.0);
        node.put("last_rounds", measured);
        return node;
    }
}
