package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.dashboard.DashboardServer;
import dev.taskpool.dashboard.DashboardSettings;
import dev.taskpool.metrics.DashboardMetrics;
import dev.taskpool.metrics.MetricsServer;
import dev.taskpool.metrics.ProcessMeters;
import dev.taskpool.support.TestRedis;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * There is no Docker engine here, so docker-compose.yml is checked by reading it: what it
 * references exists, and its commands and environment are ones the CLI accepts.
 */
class ComposeFileTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    private static JsonNode compose() throws IOException {
        return new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
    }

    @Test
    void redisRunsWithAofAndAHealthCheck() throws IOException {
        JsonNode redis = compose().path("services").path("redis");
        String command = redis.path("command").toString();
        assertTrue(command.contains("\"--appendonly\",\"yes\""), command);
        assertTrue(redis.path("healthcheck").path("test").toString().contains("ping"));
    }

    @Test
    void theWorkerServiceScalesAndReferencesWhatExists() throws IOException {
        JsonNode worker = compose().path("services").path("worker");
        assertTrue(worker.path("container_name").isMissingNode(), "a fixed container name would stop --scale worker=3");
        assertTrue(worker.path("ports").isMissingNode(), "fixed host ports would stop --scale worker=3");
        Path context = ROOT.resolve(worker.path("build").path("context").asText());
        Path dockerfile = context.resolve(worker.path("build").path("dockerfile").asText("Dockerfile"));
        assertTrue(Files.isRegularFile(dockerfile), dockerfile.toString());
        assertEquals("service_healthy", worker.path("depends_on").path("redis").path("condition").asText());
        for (JsonNode volume : worker.path("volumes")) {
            String hostPath = volume.asText().split(":")[0];
            Path mounted = ROOT.resolve(hostPath).normalize();
            assertTrue(Files.isDirectory(mounted.resolve("tasks")), "mounted app " + mounted + " has tasks/");
        }
        // Every COPY source of the Dockerfile exists (those from the build stage aside).
        Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(Files.readString(dockerfile));
        while (copy.find()) {
            assertTrue(Files.exists(context.resolve(copy.group(1))), "Dockerfile COPY " + copy.group(1));
        }
    }

    @Test
    void theWorkerCommandAndEnvironmentAreOnesTheCliAccepts() throws IOException {
        JsonNode worker = compose().path("services").path("worker");
        List<String> command = new ArrayList<>();
        worker.path("command").forEach(node -> command.add(node.asText()));
        CommandLine cli = TaskpoolCommand.commandLine();
        CommandLine.ParseResult parsed = cli.parseArgs(command.toArray(String[]::new));
        assertTrue(parsed.hasSubcommand(), "command " + command);
        assertEquals("worker", parsed.subcommand().commandSpec().name());

        Set<String> accepted = environmentVariablesOf(cli);
        assertTrue(accepted.containsAll(Set.of("TASKPOOL_REDIS_URL", "TASKPOOL_APP", "TASKPOOL_LOG_LEVEL")), accepted.toString());
        assertFalse(accepted.isEmpty());
        worker.path("environment").fieldNames().forEachRemaining(variable ->
                assertTrue(accepted.contains(variable), variable + " is not read by the CLI; it reads " + accepted));
        assertNotNull(worker.path("environment").get("TASKPOOL_REDIS_URL"));
    }

    @Test
    void optionalServicesHaveProfilesSoThatAPlainUpRunsRedisAndWorkers() throws IOException {
        JsonNode services = compose().path("services");
        List<String> always = new ArrayList<>();
        services.fieldNames().forEachRemaining(name -> {
            if (services.path(name).path("profiles").isMissingNode()) {
                always.add(name);
            }
        });
        assertEquals(List.of("redis", "worker"), always, "services a plain `docker compose up` starts");
        assertEquals("[\"metrics\"]", services.path("prometheus").path("profiles").toString());
        assertEquals("[\"metrics\"]", services.path("grafana").path("profiles").toString());
        assertEquals("[\"dashboard\"]", services.path("dashboard").path("profiles").toString());
        for (String name : List.of("prometheus", "grafana", "dashboard")) {
            for (JsonNode port : services.path(name).path("ports")) {
                assertTrue(port.asText().startsWith("127.0.0.1:"), name + " is published on loopback only: " + port);
            }
        }
    }

    @Test
    void prometheusScrapesTheWorkersMetricsPortAndGrafanaGetsItsFiles() throws IOException {
        JsonNode services = compose().path("services");
        String port = services.path("worker").path("environment").path("TASKPOOL_METRICS_PORT").asText();
        assertEquals("0.0.0.0", services.path("worker").path("environment").path("TASKPOOL_METRICS_BIND").asText(),
                "Prometheus scrapes from another container");
        JsonNode workerEnvironment = services.path("worker").path("environment");
        // a worker with these settings and no token set starts (beyond loopback it needs a token or this choice)
        MetricsServer.requireTokenBeyondLoopback(workerEnvironment.path("TASKPOOL_METRICS_BIND").asText(), null,
                Boolean.parseBoolean(workerEnvironment.path(MetricsServer.WITHOUT_TOKEN_VARIABLE).asText()));
        for (String name : List.of("prometheus", "grafana")) {
            for (JsonNode volume : services.path(name).path("volumes")) {
                String hostPath = volume.asText().split(":")[0];
                if (hostPath.startsWith("./")) {
                    assertTrue(Files.exists(ROOT.resolve(hostPath).normalize()), name + " mounts " + hostPath);
                }
            }
        }
        JsonNode prometheus = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("deploy/prometheus/prometheus.yml").toFile());
        JsonNode workers = prometheus.path("scrape_configs").get(0);
        assertEquals("worker", workers.path("dns_sd_configs").get(0).path("names").get(0).asText(), "every worker replica");
        assertEquals(port, workers.path("dns_sd_configs").get(0).path("port").asText(), "the worker's metrics port");
        JsonNode datasource = new ObjectMapper(new YAMLFactory()).readTree(
                ROOT.resolve("deploy/grafana/provisioning/datasources/prometheus.yml").toFile()).path("datasources").get(0);
        String dashboard = Files.readString(ROOT.resolve("deploy/grafana/dashboards/taskpool.json"));
        assertTrue(dashboard.contains("\"uid\": \"" + datasource.path("uid").asText() + "\""),
                "the dashboard's panels use the provisioned data source");
    }

    @Test
    void prometheusScrapesTheDashboardWithTheTokenTheDashboardRequires() throws Exception {
        JsonNode services = compose().path("services");
        JsonNode dashboardService = services.path("dashboard");
        JsonNode prometheusService = services.path("prometheus");
        JsonNode scrapes = new ObjectMapper(new YAMLFactory()).readTree(
                ROOT.resolve("deploy/prometheus/prometheus.yml").toFile()).path("scrape_configs");
        JsonNode dashboardJob = job(scrapes, "taskpool-dashboard");
        JsonNode workerJob = job(scrapes, "taskpool-worker");

        // The dashboard listens beyond loopback in its container: every read needs its token.
        List<String> command = new ArrayList<>();
        dashboardService.path("command").forEach(node -> command.add(node.asText()));
        assertEquals("0.0.0.0", command.get(command.indexOf("--bind") + 1), "the dashboard's command: " + command);
        String tokenVariable = DashboardSettings.TOKEN_VARIABLE;
        String tokenValue = dashboardService.path("environment").path(tokenVariable).asText();
        assertEquals("${" + tokenVariable + ":-}", tokenValue, "the dashboard reads its token from the host's environment");

        // Prometheus is given the same value, writes it where the dashboard's scrape job reads it, and sends it.
        assertEquals(tokenValue, prometheusService.path("environment").path(tokenVariable).asText(),
                "Prometheus gets the dashboard's token from the same variable");
        String tokenFile = dashboardJob.path("authorization").path("credentials_file").asText();
        assertTrue(tokenFile.startsWith("/run/taskpool/"), "the dashboard job sends a token from a file: " + dashboardJob);
        assertEquals("Bearer", dashboardJob.path("authorization").path("type").asText("Bearer"));
        StringBuilder entrypointWords = new StringBuilder();
        prometheusService.path("entrypoint").forEach(word -> entrypointWords.append(word.asText()).append('\n'));
        String entrypoint = entrypointWords.toString();
        assertTrue(entrypoint.contains("\"$$" + tokenVariable + "\" > " + tokenFile), "the entrypoint writes the token to "
                + tokenFile + ": " + entrypoint);
        assertTrue(entrypoint.contains("exec /bin/prometheus \"$$@\""), "then starts Prometheus with its command: " + entrypoint);
        assertTrue(prometheusService.path("tmpfs").toString().contains("\"/run/taskpool\""), "the token file is in memory only");

        // The same for the workers' optional metrics token.
        String metricsFile = workerJob.path("authorization").path("credentials_file").asText();
        assertTrue(entrypoint.contains("\"$$" + MetricsServer.TOKEN_VARIABLE + "\" > " + metricsFile), entrypoint);
        assertEquals(services.path("worker").path("environment").path(MetricsServer.TOKEN_VARIABLE).asText(),
                prometheusService.path("environment").path(MetricsServer.TOKEN_VARIABLE).asText());

        // What Prometheus then sends is what a dashboard started as the compose file starts it accepts.
        String token = "compose-" + System.nanoTime();
        ProcessMeters meters = new ProcessMeters();
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri());
             DashboardServer dashboard = new DashboardServer(redis, new TaskOperations(redis, Clock.systemUTC()),
                     new DashboardSettings(command.get(command.indexOf("--bind") + 1), 0, false, token),
                     Map.of(dashboardJob.path("metrics_path").asText(), new DashboardMetrics(meters,
                             new TaskOperations(redis, Clock.systemUTC()))))) {
            URI metrics = URI.create("http://127.0.0.1:" + dashboard.port() + dashboardJob.path("metrics_path").asText());
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode(), "without the token, as the compose file scraped before: " + anonymous.body());
            HttpResponse<String> scraped = http.send(HttpRequest.newBuilder(metrics)
                    .header("Authorization", dashboardJob.path("authorization").path("type").asText("Bearer") + " " + token).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, scraped.statusCode(), scraped.body());
            assertTrue(scraped.body().contains("jvm_memory_used_bytes"), scraped.body());
        } finally {
            meters.close();
        }
    }

    private static JsonNode job(JsonNode scrapes, String name) {
        for (JsonNode job : scrapes) {
            if (job.path("job_name").asText().equals(name)) {
                return job;
            }
        }
        throw new AssertionError("deploy/prometheus/prometheus.yml has no job " + name + ": " + scrapes);
    }

    /** The variables the CLI reads: ${env:NAME} in option defaults, and ${NAME} in the logging setup. */
    private static Set<String> environmentVariablesOf(CommandLine cli) throws IOException {
        Set<String> names = new TreeSet<>();
        Pattern env = Pattern.compile("\\$\\{env:([A-Z_]+)");
        for (CommandLine sub : cli.getSubcommands().values()) {
            sub.setInterpolateVariables(false);   // read the defaults as written: ${env:NAME:-fallback}
            for (CommandLine.Model.OptionSpec option : sub.getCommandSpec().options()) {
                // (the default as shown: the annotation's, or the command's default provider's, e.g. --grace)
                Matcher matcher = env.matcher(String.valueOf(option.defaultValueString()));
                while (matcher.find()) {
                    names.add(matcher.group(1));
                }
            }
        }
        Matcher logging = Pattern.compile("\\$\\{(TASKPOOL_[A-Z_]+)").matcher(
                Files.readString(ROOT.resolve("cli/src/main/resources/logback.xml")));
        while (logging.find()) {
            names.add(logging.group(1));
        }
        return names;
    }
}
