package dev.taskpool.bench;

import dev.taskpool.cli.Options;
import java.io.IOException;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code taskpool bench}: N no-op tasks through Redis and a worker; throughput, latency, commands, memory. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Enqueue N no-op tasks, drain them with a worker at concurrency C, and print enqueue/s, process/s,"
                + " add->start latency (low load, after the run), Redis commands and round trips per task, bytes of"
                + " Redis memory per finished task kept, and Redis CPU per task of each master (shard) and in total."
                + " Every task really goes through Redis; all must end in SUCCESS. --max-running, --rate, --unique and"
                + " --priority run the kinds under flow controls, to measure what each costs."})
final class BenchCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;

    @Option(names = "--tasks", paramLabel = "N", defaultValue = "20000", description = "N, the tasks to run (default ${DEFAULT-VALUE})")
    int tasks;

    @Option(names = "--concurrency", paramLabel = "C", defaultValue = "50", description = "C, the worker's worker_nums (default ${DEFAULT-VALUE})")
    int concurrency;

    @Option(names = "--processor", paramLabel = "java|js", defaultValue = "java", description = "java or js (default ${DEFAULT-VALUE})")
    String processor;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
            description = "worker instances, each with its own connections and script engine (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--worker-processes", paramLabel = "N", defaultValue = "0",
            description = "drain with this many `taskpool worker` processes instead (js processor only)")
    int workerProcesses;

    @Option(names = "--latency-samples", paramLabel = "N", defaultValue = "200", description = "tasks timed one at a time after the run (default ${DEFAULT-VALUE})")
    int latencySamples;

    @Option(names = "--keep", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "3600s",
            description = "retention of the finished tasks (default ${DEFAULT-VALUE})")
    Duration keep;

    @Option(names = "--keep-data", description = "leave the benchmark's keys in Redis (they are deleted by default)")
    boolean keepData;

    @Option(names = "--kinds", paramLabel = "K", defaultValue = "1",
            description = "K task kinds run at once, splitting the tasks and the concurrency over them; on a Cluster"
                    + " kind i lives on master i mod M, and each master's Redis CPU and commands per task are reported"
                    + " (default ${DEFAULT-VALUE})")
    int kinds;

    @Option(names = "--adds", paramLabel = "bulk|single|virtual|async", defaultValue = "bulk",
            description = "how the tasks are enqueued: bulk (batch adds of 1,000), single (one task per TaskpoolClient.add"
                    + " call, --in-flight platform threads at once), virtual (the same from --in-flight virtual threads, as a"
                    + " web server on virtual threads calls it) or async (one task per TaskpoolClient.addAsync call, one thread"
                    + " keeping --in-flight at once) (default ${DEFAULT-VALUE})")
    String adds;

    @Option(names = "--in-flight", paramLabel = "N", defaultValue = "50",
            description = "with --adds single: callers adding at once, each in a loop (1: one caller); with --adds async:"
                    + " adds in flight (default ${DEFAULT-VALUE})")
    int inFlight;

    @Option(names = "--max-running", paramLabel = "N", defaultValue = "0",
            description = "each kind's max_running: at most N of its tasks run at once over all workers (default: no cap)")
    int maxRunning;

    @Option(names = "--rate", paramLabel = "L/S",
            description = "each kind's rate: at most L starts per S seconds, such as 100000/1 (default: no rate)")
    String rate;

    @Option(names = "--unique", paramLabel = "args|key",
            description = "args: each kind is unique by its arguments (every task's differ); key: every add names a key of"
                    + " its own (needs --adds single, virtual or async) (default: neither)")
    String unique;

    @Option(names = "--priority", paramLabel = "P", defaultValue = "0",
            description = "every other add (with --adds bulk: every other batch) at priority P, 1 to 3, the rest at 0"
                    + " (default: all at 0)")
    int priority;

    @Option(names = "--partitions", paramLabel = "P", defaultValue = "1",
            description = "each kind spread over P hash tags (\"partitions\": P; on a Cluster, P masters) (default ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--json", description = "print exactly one JSON line")
    boolean json;

    @Option(names = "--cpu-script", paramLabel = "ROUNDS", defaultValue = "0",
            description = "instead: run a CPU-heavy script ROUNDS times on one context (no Redis) and print the median"
                    + " time of the last third, to compare with and without the compiler (TASKPOOL_COMPILER=off)")
    int cpuScriptRounds;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "0",
            description = "tasks run through the same path first and not counted, as a long-running worker is warm (default ${DEFAULT-VALUE})")
    int warmup;

    @Override
    public void run() {
        if (cpuScriptRounds > 0) {
            try {
                System.out.println(ScriptCpuBench.run(cpuScriptRounds));
            } catch (IOException e) {
                throw new IllegalStateException("cannot write the CPU benchmark script: " + e.getMessage(), e);
            }
            return;
        }
        Bench.Processor kind = switch (processor.toLowerCase()) {
            case "java" -> Bench.Processor.JAVA;
            case "js" -> Bench.Processor.JS;
            default -> throw new IllegalArgumentException("--processor must be java or js, got '" + processor + "'");
        };
        Bench.Adds addMode = switch (adds.toLowerCase()) {
            case "bulk" -> Bench.Adds.BULK;
            case "single" -> Bench.Adds.SINGLE;
            case "async" -> Bench.Adds.ASYNC;
            case "virtual" -> Bench.Adds.VIRTUAL;
            default -> throw new IllegalArgumentException("--adds must be bulk, single, virtual or async, got '" + adds + "'");
        };
        if (workerProcesses > 0 && kind != Bench.Processor.JS) {
            throw new IllegalArgumentException("--worker-processes runs `taskpool worker`, which has no Java processor: use --processor js");
        }
        if (tasks < 1 || concurrency < 1 || workers < 1 || latencySamples < 0) {
            throw new IllegalArgumentException("--tasks, --concurrency and --workers must be at least 1, --latency-samples at least 0");
        }
        try {
            var result = new Bench(new Bench.Options(redis.redis, tasks, concurrency, kind, workers, latencySamples, keep,
                    keepData, warmup, workerProcesses, kinds, addMode, inFlight, BenchFlow.parse(maxRunning, rate, unique, priority, partitions)),
                    redis.tls.settings()).run();
            System.out.println(json ? result.toJson().toString() : result.toTable());
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the benchmark app: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
