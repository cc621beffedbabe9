package dev.taskpool.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.taskpool.core.TaskpoolException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntToLongFunction;

/**
 * The add->start latency, measured after the run: one task at a time, from just before its add
 * to the first line of its processor, which reports its start through {@link #STARTED}.
 */
final class LatencyProbe {
    /** The process the latency task's processor calls first, with the task id. */
    static final String STARTED = "bench.probe.Started";

    /**
     * Latency tasks run first and not counted: they warm the probe's own path (its script is not
     * the no-op the run made hot), which GraalJS compiles after some hundred calls; timed while
     * that compilation competes for the two cores, a JS p99 read 4.8-5.3 ms instead of 1.2 ms.
     */
    private static final int WARM_SAMPLES = 500;

    /** Start times of latency tasks, handed over without the measuring thread spinning on a core. */
    private final BlockingQueue<long[]> starts = new LinkedBlockingQueue<>();

    /** The {@link #STARTED} process: notes when the task whose id is the first argument started. */
    Object started(List<Object> args) {
        starts.add(new long[] {((Number) args.getFirst()).longValue(), System.nanoTime()});
        return null;
    }

    /**
     * {@code samples} timed adds (after some untimed ones), in ms; {@code add} adds the latency
     * task with the argument it is given and returns its id. Workers serving that task run.
     */
    double[] measure(int samples, IntToLongFunction add) throws InterruptedException {
        double[] times = new double[samples];
        // Low load: the workers block in BLPOP, and this JVM has stopped compiling what the run made hot.
        awaitQuiet();
        // (a handful of samples, as a smoke test asks for, gets a handful of warm-up runs)
        int warm = Math.min(WARM_SAMPLES, 20 * samples);
        for (int i = 0; i < samples + warm; i++) {
            if (i == warm) {
                awaitQuiet();   // what the warm-up made hot is compiled before the timing starts
            }
            long before = System.nanoTime();
            long id = add.applyAsLong(i);
            long[] start;
            do {
                start = starts.poll(10, TimeUnit.SECONDS);
                if (start == null) {
                    throw new TaskpoolException("a latency task did not start within 10 s");
                }
            } while (start[0] != id);
            long started = start[1];
            if (i >= warm) {
                times[i - warm] = (started - before) / 1e6;
            }
            Thread.sleep(2);
        }
        if (System.getenv("TASKPOOL_BENCH_DEBUG") != null) {
            double[] sorted = times.clone();
            Arrays.sort(sorted);
            System.err.println("latency samples (ms, in order): " + Arrays.toString(times));
            System.err.println("latency samples (ms, sorted): " + Arrays.toString(sorted));
        }
        return times;
    }

    /**
     * Waits (up to 15 s) until this process uses under 5% of one core over 200 ms: the JIT
     * compilers finish what the run made hot, so that the latency samples measure the task path
     * at low load and not the benchmark's own after-effects.
     */
    private static void awaitQuiet() throws InterruptedException {
        var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        Thread.sleep(300);
        while (System.nanoTime() < deadline) {
            long cpuBefore = os.getProcessCpuTime();
            long before = System.nanoTime();
            Thread.sleep(200);
            double busy = (double) (os.getProcessCpuTime() - cpuBefore) / (System.nanoTime() - before);
            if (busy < 0.05) {
                return;
            }
        }
    }

    /** The value below which {@code percentile}% of {@code values} lie (nearest rank). */
    static double percentile(double[] values, int percentile) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
