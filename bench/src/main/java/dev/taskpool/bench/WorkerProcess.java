package dev.taskpool.bench;

import dev.taskpool.cli.TaskpoolCommand;
import dev.taskpool.core.redis.RedisTls;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code taskpool worker} JVM of {@code bench --worker-processes}, launched like this one: the
 * same java, class path and options (the bench jar names the command line's jars).
 */
final class WorkerProcess {
    private WorkerProcess() {
    }

    /**
     * Starts one on the benchmark app, serving the kinds {@code task} (comma-separated), as worker
     * {@code id}-(this JVM's pid).
     */
    static Process start(Path app, String id, String task, String redisUri, RedisTls tls) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(arg -> !arg.startsWith("-XX:StartFlightRecording")).toList());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TaskpoolCommand.class.getName(), "worker",
                "--app", app.toString(), "--redis", redisUri, "--worker-id", id + "-" + ProcessHandle.current().pid(),
                "--tasks", task));
        addFileOption(command, "--redis-ca", tls.caFile());
        addFileOption(command, "--redis-cert", tls.certFile());
        addFileOption(command, "--redis-key", tls.keyFile());
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void addFileOption(List<String> command, String name, Path file) {
        if (file != null) {
            command.addAll(List.of(name, file.toString()));
        }
    }
}
