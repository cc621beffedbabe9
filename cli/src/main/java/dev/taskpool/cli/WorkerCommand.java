package dev.taskpool.cli;

import com.sun.net.httpserver.HttpHandler;
import dev.taskpool.core.Durations;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.ValueLimits;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.dashboard.DashboardServer;
import dev.taskpool.dashboard.DashboardSettings;
import dev.taskpool.metrics.MetricsServer;
import dev.taskpool.metrics.ProcessMeters;
import dev.taskpool.metrics.PrometheusEndpoint;
import dev.taskpool.worker.exec.Timeouts;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.metrics.MicrometerWorkerMetrics;
import dev.taskpool.worker.metrics.RedisLatencies;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code taskpool worker}: runs the app's tasks until SIGTERM, then stops gracefully. */
@Command(name = "worker", mixinStandardHelpOptions = true, defaultValueProvider = WorkerCommand.Defaults.class,
        description = "Run workers for every task of the app (or those of --tasks) until stopped (SIGTERM/Ctrl-C).")
final class WorkerCommand implements Runnable {
    @Spec
    CommandSpec spec;
    @Mixin
    Options.RedisOption redis;
    @Mixin
    Options.AppOption app;
    @Mixin
    Options.ArgsLimitOption argsLimit;
    @Mixin
    Options.ResultLimitOption resultLimit;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK", description = "only these task ids (comma-separated)")
    List<String> tasks = List.of();

    @Option(names = "--worker-id", paramLabel = "ID", defaultValue = "${env:TASKPOOL_WORKER_ID}",
            description = "this worker's name in task records (env TASKPOOL_WORKER_ID; default: this machine's name,"
                    + " the process id and 6 random characters, e.g. vm-4242-1a2b3c)")
    String workerId;

    @Option(names = "--lease", paramLabel = "DURATION", converter = Options.DurationConverter.class,
            description = "how long a running task stays this worker's without a heartbeat (default ${DEFAULT-VALUE})")
    Duration lease;

    @Option(names = "--heartbeat", paramLabel = "DURATION", converter = Options.DurationConverter.class,
            description = "how often leases are extended (default ${DEFAULT-VALUE})")
    Duration heartbeat;

    @Option(names = "--recover-every", paramLabel = "DURATION", converter = Options.DurationConverter.class,
            description = "how often this worker looks for tasks whose lease expired, jittered ±20%% (default ${DEFAULT-VALUE})")
    Duration recoverEvery;

    @Option(names = "--abandon-after", paramLabel = "DURATION", converter = Options.DurationConverter.class,
            description = "how long a stopped processor that ignores its interrupt is waited for before its thread is abandoned (default ${DEFAULT-VALUE})")
    Duration abandonAfter;

    @Option(names = "--grace", paramLabel = "DURATION", converter = Options.DurationConverter.class,
            description = "on SIGTERM, how long running tasks get to finish before they are handed back (env TASKPOOL_SHUTDOWN_GRACE; default ${DEFAULT-VALUE})")
    Duration grace;

    @Option(names = "--dashboard-port", paramLabel = "PORT",
            description = "also serve the web dashboard from this worker on PORT (as 'taskpool dashboard' does)")
    Integer dashboardPort;

    @Option(names = "--dashboard-bind", paramLabel = "ADDRESS", defaultValue = DashboardSettings.DEFAULT_BIND,
            description = "the address the dashboard listens on (default ${DEFAULT-VALUE}); any other needs a token")
    String dashboardBind;

    @Option(names = "--dashboard-read-only", description = "the dashboard shows everything and changes nothing")
    boolean dashboardReadOnly;

    @Option(names = "--dashboard-token", paramLabel = "TOKEN", defaultValue = "${env:" + DashboardSettings.TOKEN_VARIABLE + "}",
            description = "a secret the dashboard's actions need (and its reads, beyond loopback) (env "
                    + DashboardSettings.TOKEN_VARIABLE + ")")
    String dashboardToken;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "${env:TASKPOOL_METRICS_PORT}",
            description = "serve Prometheus metrics at http://BIND:PORT/metrics (env TASKPOOL_METRICS_PORT; default: no metrics kept)")
    Integer metricsPort;

    @Option(names = "--metrics-bind", paramLabel = "ADDRESS", defaultValue = "${env:TASKPOOL_METRICS_BIND:-127.0.0.1}",
            description = "the address the metrics port listens on (env TASKPOOL_METRICS_BIND; default ${DEFAULT-VALUE};"
                    + " 0.0.0.0 for every interface, e.g. in a container: then needs --metrics-token or --metrics-without-token)")
    String metricsBind;

    @Option(names = "--metrics-token", paramLabel = "TOKEN", defaultValue = "${env:" + MetricsServer.TOKEN_VARIABLE + "}",
            description = "a secret every scrape must carry ('Authorization: Bearer TOKEN', or the basic-auth password)"
                    + " (env " + MetricsServer.TOKEN_VARIABLE + ")")
    String metricsToken;

    @Option(names = "--metrics-without-token", defaultValue = "${env:" + MetricsServer.WITHOUT_TOKEN_VARIABLE + ":-false}",
            description = "serve metrics beyond loopback without a token, on a network only trusted scrapers reach"
                    + " (env " + MetricsServer.WITHOUT_TOKEN_VARIABLE + "=true)")
    boolean metricsWithoutToken;

    @Override
    public void run() {
        // Every option is checked before Redis is touched: a refused start publishes nothing.
        DashboardSettings dashboardSettings = dashboardPort == null ? null
                : new DashboardSettings(dashboardBind, dashboardPort, dashboardReadOnly, dashboardToken);
        if (dashboardSettings != null) {
            dashboardSettings.requireTokenBeyondLoopback("--dashboard-token");
        }
        if (metricsPort != null) {
            MetricsServer.requireTokenBeyondLoopback(metricsBind, emptyAsNone(metricsToken), metricsWithoutToken);
        }
        // The options' own names in the message: "--heartbeat 12s must be shorter than --lease 10s".
        WorkerSettings defaults = WorkerSettings.defaults();
        Timeouts.requireWorkable(lease, heartbeat, recoverEvery, grace, abandonAfter, defaults.idleBlock(), optionNames());
        WorkerSettings settings = defaults.withLease(lease, heartbeat).withShutdownGrace(grace)
                .withRecoverInterval(recoverEvery).withAbandonAfter(abandonAfter);
        if (workerId != null && !workerId.isBlank()) {
            settings = settings.withWorkerId(workerId);
        }
        // Metrics are kept only when they are served: a worker without --metrics-port pays nothing.
        ProcessMeters meters = metricsPort == null ? null : new ProcessMeters();
        RedisConnector connector = redis.connect(meters == null ? null : RedisLatencies.recorder(meters.registry()));
        AppRuntime runtime = null;
        Worker worker;
        MetricsServer server = null;
        DashboardServer dashboard = null;
        try {
            // The ports first: one that cannot listen stops the command before the app's definitions are published.
            if (meters != null) {
                server = MetricsServer.start(metricsBind, metricsPort, meters.registry(), emptyAsNone(metricsToken),
                        metricsWithoutToken);
            }
            if (dashboardSettings != null) {
                Map<String, HttpHandler> extra = meters == null ? Map.of()
                        : Map.of("/metrics", new PrometheusEndpoint(meters.registry()));
                dashboard = new DashboardServer(connector, new TaskOperations(connector),
                        dashboardSettings, extra);
            }
            runtime = AppRuntime.open(app.app.toAbsolutePath().normalize(), new AddStore(connector), new ProcessRegistry(),
                    connector.clock(), new ValueLimits(argsLimit.maxArgs, resultLimit.maxResult));
            if (meters != null) {
                runtime.measureWith(new MicrometerWorkerMetrics(meters.registry(), new TaskOperations(connector)));
            }
            worker = new Worker(runtime, settings, tasks).start();
        } catch (RuntimeException e) {
            if (dashboard != null) {
                dashboard.close();
            }
            if (server != null) {
                server.close();
            }
            if (runtime != null) {
                runtime.close();
            }
            connector.close();
            throw e;
        }
        if (server != null) {
            LoggerFactory.getLogger(WorkerCommand.class).info("metrics at http://{}:{}/metrics", metricsBind,
                    server.port());
        }
        if (dashboard != null) {
            System.out.println("taskpool dashboard on " + dashboard.url() + dashboard.settings().describeAccess());
        }
        DashboardServer servedDashboard = dashboard;
        MetricsServer metricsServer = server;
        AppRuntime openedRuntime = runtime;
        // SIGTERM and Ctrl-C run the shutdown hooks: the graceful stop happens there, and the
        // JVM exits when it is done.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                if (servedDashboard != null) {
                    servedDashboard.close();
                }
                worker.close();
            } finally {
                if (metricsServer != null) {
                    metricsServer.close();
                }
                openedRuntime.close();
                connector.close();
            }
        }, "graceful-stop"));
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The duration options' defaults, read from {@link WorkerSettings#defaults()} so that they are
     * written once; {@code --help} shows them as {@code ${DEFAULT-VALUE}}. Other options keep
     * the defaults of their annotations (this provider answers null for them).
     */
    static final class Defaults implements IDefaultValueProvider {
        /** Built on first use: the defaults name this machine, which other commands need not look up. */
        private static final class DefaultSettings {
            static final WorkerSettings VALUE = WorkerSettings.defaults();
        }

        @Override
        public String defaultValue(ArgSpec argument) {
            if (!(argument instanceof OptionSpec option)) {
                return null;
            }
            return switch (option.longestName()) {
                case "--lease" -> Durations.text(DefaultSettings.VALUE.lease());
                case "--heartbeat" -> Durations.text(DefaultSettings.VALUE.heartbeatInterval());
                case "--recover-every" -> Durations.text(DefaultSettings.VALUE.recoverInterval());
                case "--abandon-after" -> Durations.text(DefaultSettings.VALUE.abandonAfter());
                // (picocli interpolates a provided default as it does an annotation's)
                case "--grace" -> "${env:TASKPOOL_SHUTDOWN_GRACE:-"
                        + Durations.text(DefaultSettings.VALUE.shutdownGrace()) + "}";
                default -> null;
            };
        }
    }

    /** The options' names, with each value as it was typed ({@code --heartbeat 12000ms}), or its default. */
    private Timeouts.Names optionNames() {
        return new Timeouts.Names("--lease", "--heartbeat", "--recover-every", "--grace", "--abandon-after",
                "the idle block", (name, value) -> {
                    OptionSpec option = spec.findOption(name);
                    List<String> typed = option == null ? List.of() : option.originalStringValues();
                    return typed.isEmpty() ? Durations.text(value) : typed.getLast();
                });
    }

    private static String emptyAsNone(String value) {
        return value == null || value.isEmpty() ? null : value;
    }
}
