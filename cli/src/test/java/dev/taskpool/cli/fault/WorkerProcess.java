package dev.taskpool.cli.fault;

import dev.taskpool.cli.TaskpoolCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A `taskpool worker` in a JVM of its own, so that a test can kill -9 or SIGTERM it. */
final class WorkerProcess implements AutoCloseable {
    private final String id;
    private final Process process;
    private final Path log;

    private WorkerProcess(String id, Process process, Path log) {
        this.id = id;
        this.process = process;
        this.log = log;
    }

    /** Fast leases for tests: 2 s lease, 400 ms heartbeat, recoverer every second. */
    static final List<String> FAST = List.of("--lease", "2s", "--heartbeat", "400ms", "--recover-every", "1s");

    static WorkerProcess start(String id, Path app, String redisUri, Path logDir, List<String> settings) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), TaskpoolCommand.class.getName(),
                "worker", "--app", app.toString(), "--redis", redisUri, "--worker-id", id));
        command.addAll(settings);
        Path log = logDir.resolve(id + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new WorkerProcess(id, process, log);
    }

    String id() {
        return id;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** kill -9: no graceful stop, no hand-back; its leases must expire. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM: the graceful stop. Returns how long the process took to exit. */
    Duration terminate(Duration limit) throws InterruptedException {
        long start = System.nanoTime();
        process.destroy();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("worker " + id + " did not exit within " + limit + " of SIGTERM; log:\n" + tail());
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    long logLines(String containing) {
        try {
            return Files.readAllLines(log).stream().filter(line -> line.contains(containing)).count();
        } catch (IOException e) {
            return 0;
        }
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
