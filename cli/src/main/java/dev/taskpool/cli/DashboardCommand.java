package dev.taskpool.cli;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.dashboard.DashboardServer;
import dev.taskpool.dashboard.DashboardSettings;
import dev.taskpool.metrics.DashboardMetrics;
import dev.taskpool.metrics.ProcessMeters;
import dev.taskpool.worker.metrics.RedisLatencies;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code taskpool dashboard}: the web dashboard until Ctrl-C; needs no app directory. */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
        description = "Serve the web dashboard (overview, kinds, tasks, workers; live) until stopped (no app directory needed).")
final class DashboardCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
            description = "the TCP port to listen on (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = DashboardSettings.DEFAULT_BIND,
            description = "the address to listen on (default ${DEFAULT-VALUE}: this machine only); any other needs --token")
    String bind;

    @Option(names = "--read-only", description = "show everything, change nothing (actions answer 403)")
    boolean readOnly;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:" + DashboardSettings.TOKEN_VARIABLE + "}",
            description = "a secret every action needs ('Authorization: Bearer TOKEN', or the basic-auth password),"
                    + " and every read too when bound beyond loopback (env " + DashboardSettings.TOKEN_VARIABLE + ")")
    String token;

    @Override
    public void run() {
        DashboardSettings settings = new DashboardSettings(bind, port, readOnly, token);
        settings.requireTokenBeyondLoopback("--token");   // before Redis is touched
        // /metrics: the kinds' gauges read from Redis, the JVM's and Lettuce's meters
        ProcessMeters meters = new ProcessMeters();
        RedisConnector connector = redis.connect(RedisLatencies.recorder(meters.registry()));
        DashboardServer server;
        try {
            TaskOperations operations = new TaskOperations(connector);
            server = new DashboardServer(connector, operations, settings,
                    Map.of("/metrics", new DashboardMetrics(meters, operations)));
        } catch (RuntimeException e) {
            connector.close();
            meters.close();
            throw e;
        }
        System.out.println("taskpool dashboard on " + server.url() + settings.describeAccess() + " (Ctrl-C stops it)");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } finally {
                connector.close();
                meters.close();
            }
        }, "dashboard-stop"));
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
