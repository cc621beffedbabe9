package dev.taskpool.bench;

import dev.taskpool.core.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's throwaway app, in a temporary directory: one task definition per kind running
 * the no-op processor, the latency probe's task (a plain kind), and for the JS processor the script of both.
 */
final class BenchApp {
    /** The Java no-op processor: returns its second argument. */
    static final String JAVA_PROCESS = "bench.noop.Run";

    private BenchApp() {
    }

    /**
     * One definition per kind, each with its share of the tasks (queue size) and of the concurrency,
     * and the flow controls of {@code --max-running}, {@code --rate} and {@code --unique args}.
     */
    static Path write(Bench.Options options, List<String> kinds, List<Integer> tasksPerKind, List<Integer> concurrencyPerKind) throws IOException {
        // (the definitions are written once; the warm-up copies the first kind's under another id)
        Path app = Files.createTempDirectory("taskpool-bench-");
        app.toFile().deleteOnExit();
        String process = options.processor() == Bench.Processor.JAVA ? JAVA_PROCESS : "scripts.bench.Noop";
        for (int k = 0; k < kinds.size(); k++) {
            Path definition = app.resolve("tasks/" + kinds.get(k).replace('.', '/') + ".yao");
            Files.createDirectories(definition.getParent());
            Map<String, Object> fields = new LinkedHashMap<>(Map.of("name", "benchmark", "worker_nums", concurrencyPerKind.get(k),
                    "attempts", 0, "attempt_after", 0, "timeout", 60,
                    // (a partitioned kind's batches go to its partitions in turn: each may get a batch more than its share)
                    "size", Math.max(tasksPerKind.get(k), options.warmup()) + options.latencySamples() + 10
                            + (options.flow().partitions() > 1 ? options.flow().partitions() * BenchAdds.BATCH : 0),
                    "keep", options.keep().toSeconds(), "process", process));
            options.flow().putInto(fields);
            Files.writeString(definition, Json.write(fields));
        }
        String task = kinds.getFirst();
        // The task the add->start latency is measured on after the run, by the same (warm) workers.
        Path latency = app.resolve("tasks/" + (task + "l").replace('.', '/') + ".yao");
        Files.writeString(latency, Json.write(Map.of("name", "latency", "worker_nums", 4, "attempts", 0,
                "attempt_after", 0, "timeout", 60, "size", options.latencySamples() + 30, "keep", 60,
                "process", options.processor() == Bench.Processor.JAVA ? LatencyProbe.STARTED : "scripts.bench.Timed")));
        if (options.processor() == Bench.Processor.JAVA) {
            return app;   // Java processes only: the workers never start GraalJS
        }
        Files.createDirectories(app.resolve("scripts"));
        Files.writeString(app.resolve("scripts/bench.js"), """
                // The no-op processor of the benchmark: returns its argument.
                function Noop(id, i) { return i; }
                // The same, reporting when it started (for the add->start latency).
                function Timed(id, i) { Process('bench.probe.Started', id); return i; }
                """);
        return app;
    }
}
