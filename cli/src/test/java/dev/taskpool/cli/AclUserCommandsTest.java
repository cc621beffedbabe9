package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.client.Subscription;
import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.DocumentedAclRules;
import dev.taskpool.worker.TestApp;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command and endpoint as the Redis ACL user docs/acl.md gives it, with users created from the
 * own rules of docs/acl.md ({@link DocumentedAclRules}): a real worker process with {@code --metrics-port}
 * (scraped), {@code run}, the client's adds, awaits, gets and subscriptions, every operator command
 * ({@code stats}, {@code list}, {@code retry}, {@code cancel}, {@code pause}, {@code resume},
 * {@code delete}, {@code get}, {@code watch} in each form) and a real dashboard process (pages, API
 * reads and actions, the event stream, {@code /metrics}). Whatever the rules deny fails the test
 * through Redis' ACL LOG, even a refusal that is only logged or pcall'd inside a script.
 */
class AclUserCommandsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String TASK = "aclcli";
    private static final Pattern METRICS_AT = Pattern.compile("metrics at (http://\\S+/metrics)");
    private static final Pattern COUNTS = Pattern.compile("(counts " + TASK + ")");
    private static final Pattern DASHBOARD_AT = Pattern.compile("taskpool dashboard on (http://\\S+/)");
    private static final DocumentedAclRules DOCUMENTED = DocumentedAclRules.read();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    private LocalRedis redis;
    private RedisConnector admin;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void startRedisWithTheReadmesUsers() {
        redis = LocalRedis.start();
        admin = RedisConnector.connect(redis.uri());
        for (String user : DOCUMENTED.users()) {
            setUser(user, DOCUMENTED.of(user, TASK));
        }
        admin.sync().aclLogReset();
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Process process : processes) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        if (admin != null) {
            admin.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private void setUser(String name, String rules) {
        CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add(name).add("on")
                .add(">" + name + "-secret");
        for (String rule : rules.split(" +")) {
            args.add(rule);
        }
        assertEquals("OK", admin.sync().dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), args), "ACL SETUSER " + name);
    }

    private String as(String user) {
        return redis.uri().replace("redis://", "redis://" + user + ":" + user + "-secret@");
    }

    /** A kind whose script doubles n, fails for n < 0, and sleeps (until canceled) for "hold". */
    private TestApp app() {
        return TestApp.in(dir.resolve("app"))
                .task(TASK, 2, 0, 0, 900, 100, "scripts.acl.Work", "")
                .script("acl", """
                        function Work(id, n) {
                          if (n === 'hold') { Process('utils.time.Sleep', 600000); return 'held'; }
                          if (n < 0) { throw new Error('bad input ' + n); }
                          Progress(id, 1, 1, 'done');
                          return n * 2;
                        }
                        """);
    }

    private static Result ok(String... args) {
        Result result = execute(args);
        assertEquals(0, result.code(), String.join(" ", args) + " failed: " + result.err());
        return result;
    }

    @Test
    void everyCommandAndEndpointRunsAsTheUserTheReadmeGivesIt() throws Exception {
        Path appDir = app().dir();
        String worker = as("taskpool-worker");
        String operator = as("taskpool-operator");
        Path workerLog = dir.resolve("worker.log");
        Process workerProcess = start(workerLog, "worker", "--app", appDir.toString(), "--redis", worker,
                "--metrics-port", "0", "--lease", "2s", "--heartbeat", "400ms", "--grace", "2s");
        URI metrics = URI.create(awaitLine(workerProcess, workerLog, METRICS_AT) + "");

        // run (the worker user): loads the app and adds through its process
        long added = Long.parseLong(ok("run", "--app", appDir.toString(), "--redis", worker, "tasks." + TASK + ".add", "3").out());

        Map<String, Integer> events = new ConcurrentHashMap<>();
        try (TaskpoolClient client = TaskpoolClient.connect(as("taskpool-client"));
             Subscription ignored = client.subscribeAll(TASK, event -> events.merge(event.event(), 1, Integer::sum))) {
            // the client: add one, a batch, many at once (one script call reads their request records with MGET)
            List<Long> ids = new ArrayList<>(List.of(added, client.add(TASK, 1).id()));
            ids.addAll(client.addAll(TASK, List.of(List.of(2), List.of(4))));
            List<CompletableFuture<Long>> together = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                together.add(client.addAsync(TASK, i).thenApply(result -> result.id()));
            }
            together.forEach(add -> ids.add(add.join()));
            long watched = ids.getLast();
            try (Subscription one = client.subscribe(TASK, watched, event -> { })) {
                for (long id : ids) {
                    assertEquals(TaskStatus.SUCCESS, client.await(TASK, id, WAIT).status(), "task #" + id);
                }
            }
            assertEquals(6, Json.read(ok("get", "--redis", as("taskpool-client"), TASK, String.valueOf(added)).out(), "get")
                    .path("response").asLong(), "get as the client user");
            Wait.until("events reach the client user's pattern subscription", WAIT, () -> events.containsKey("success"));

            long failed = client.add(TASK, -1).id();
            assertEquals(TaskStatus.FAILURE, client.await(TASK, failed, WAIT).status());
            long held = client.add(TASK, "hold").id();
            Wait.until("the held task runs", WAIT, () -> client.get(TASK, held).orElseThrow().status() == TaskStatus.RUNNING);

            // the operator's commands
            assertTrue(ok("stats", "--redis", operator).out().contains(TASK));
            ok("stats", "--redis", operator, "--json");
            for (String status : List.of("waiting", "running", "success", "failure")) {
                ok("list", "--redis", operator, TASK, "--status", status);
            }
            ok("get", "--redis", operator, TASK, String.valueOf(failed));
            long delayed = client.addWith(TASK, AddOptions.delay(Duration.ofDays(1)), 4).id();
            ok("run-now", "--redis", operator, TASK, String.valueOf(delayed));
            assertEquals(TaskStatus.SUCCESS, client.await(TASK, delayed, WAIT).status(), "run now as the operator");
            ok("watch", "--redis", operator, TASK, String.valueOf(failed));   // a finished task: its state, at once
            // watch every kind, and one kind, as real processes (their output is not a terminal: a line per event)
            Path watchAllLog = dir.resolve("watch-all.log");
            Path watchOneLog = dir.resolve("watch-one.log");
            Process watchAll = start(watchAllLog, "watch", "--redis", operator, "--for", "60s", "--events", "3");
            Process watchOne = start(watchOneLog, "watch", "--redis", operator, TASK, "--for", "60s", "--events", "3");
            awaitLine(watchAll, watchAllLog, COUNTS);   // subscribed before it reads the counts
            awaitLine(watchOne, watchOneLog, COUNTS);
            ok("retry", "--redis", operator, TASK, String.valueOf(failed));
            ok("retry", "--redis", operator, TASK, "--failed");
            ok("cancel", "--redis", operator, TASK, String.valueOf(held));
            ok("pause", "--redis", operator, TASK);
            long waiting = client.add(TASK, 5).id();
            assertTrue(ok("list", "--redis", operator, TASK, "--status", "waiting").out().contains(String.valueOf(waiting)));
            ok("resume", "--redis", operator, TASK);
            assertEquals(TaskStatus.SUCCESS, client.await(TASK, waiting, WAIT).status());
            ok("delete", "--redis", operator, TASK, String.valueOf(waiting));
            for (Path watchLog : List.of(watchAllLog, watchOneLog)) {
                Process watch = watchLog.equals(watchAllLog) ? watchAll : watchOne;
                assertTrue(watch.waitFor(90, TimeUnit.SECONDS), "watch ends after 3 events");
                String printed = Files.readString(watchLog);
                assertEquals(0, watch.exitValue(), printed);
                assertEquals(3, Pattern.compile("(?m)^\\S+ " + TASK + " #\\d+ ").matcher(printed).results().count(),
                        "the events of the operator's actions reach watch:\n" + printed);
            }
            Result watchTask = execute("watch", "--redis", operator, TASK, String.valueOf(held));
            assertEquals(0, watchTask.code(), "watch TASK ID: " + watchTask.err());

            dashboardAsTheOperator(client, operator);

            // the worker's /metrics: the kind's gauges are read from Redis as the worker user
            String page = awaitScrape(metrics, text -> MetricsEndpointTest.value(text, "taskpool_queue_waiting", TASK) == 0
                    && MetricsEndpointTest.value(text, "taskpool_kind_totals", TASK, "counter", "canceled") == 2);
            assertTrue(MetricsEndpointTest.value(page, "taskpool_queue_running", TASK) >= 0, page);
        }
        String log = Files.readString(workerLog);
        assertFalse(log.contains("may not") || log.contains("NOPERM"), "the worker was refused something:\n" + log);
        assertEquals(List.of(), admin.sync().aclLog(), "what the ACL rules of docs/acl.md denied (ACL LOG)");
    }

    /** A real dashboard process as the operator user: pages, every API read and action, the event stream, /metrics. */
    private void dashboardAsTheOperator(TaskpoolClient client, String operator) throws Exception {
        Path log = dir.resolve("dashboard.log");
        Process dashboard = start(log, "dashboard", "--redis", operator, "--port", "0");
        String url = awaitLine(dashboard, log, DASHBOARD_AT);
        for (String page : List.of("", "app.js", "api/overview", "api/workers", "api/kinds/" + TASK, "metrics")) {
            assertEquals(200, get(url + page).statusCode(), page + ": " + get(url + page).body());
        }
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        HttpResponse<Stream<String>> stream = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(url + "events?task=" + TASK)).build(),
                HttpResponse.BodyHandlers.ofLines()).get(30, TimeUnit.SECONDS);
        Thread reader = Thread.ofVirtual().start(() -> stream.body().forEach(lines::add));
        try {
            assertEquals(200, stream.statusCode());
            awaitLine(lines, "event: hello");
            long id = client.add(TASK, 7).id();
            assertEquals(TaskStatus.SUCCESS, client.await(TASK, id, WAIT).status());
            awaitLine(lines, "event: task");
            for (String status : List.of("waiting", "running", "success", "failure")) {
                assertEquals(200, get(url + "api/kinds/" + TASK + "/tasks?status=" + status).statusCode(), status);
            }
            assertEquals(200, get(url + "api/kinds/" + TASK + "/tasks/" + id).statusCode());
            long failing = client.add(TASK, -2).id();
            assertEquals(TaskStatus.FAILURE, client.await(TASK, failing, WAIT).status());
            for (String action : List.of("pause", "resume", "retry-failed")) {
                assertEquals(200, post(url + "api/kinds/" + TASK + "/" + action).statusCode(), action);
            }
            assertEquals(TaskStatus.FAILURE, client.await(TASK, failing, WAIT).status());
            assertEquals(200, post(url + "api/kinds/" + TASK + "/tasks/" + failing + "/retry").statusCode());
            assertEquals(TaskStatus.FAILURE, client.await(TASK, failing, WAIT).status());
            assertEquals(200, post(url + "api/kinds/" + TASK + "/tasks/" + failing + "/delete").statusCode());
            long held = client.add(TASK, "hold").id();
            assertEquals(200, post(url + "api/kinds/" + TASK + "/tasks/" + held + "/cancel").statusCode());
            long delayed = client.addWith(TASK, AddOptions.delay(Duration.ofDays(1)), 5).id();
            assertEquals(200, post(url + "api/kinds/" + TASK + "/tasks/" + delayed + "/run-now").statusCode());
        } finally {
            reader.interrupt();
            stream.body().close();
        }
        String logged = Files.readString(log);
        assertFalse(logged.contains("may not") || logged.contains("NOPERM"), "the dashboard was refused something:\n" + logged);
    }

    private Process start(Path log, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                TaskpoolCommand.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(process);
        return process;
    }

    /** The first group of {@code line} once the process prints it. */
    private static String awaitLine(Process process, Path log, Pattern line) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher found = line.matcher(Files.readString(log));
            if (found.find()) {
                return found.group(1);
            }
            if (!process.isAlive()) {
                throw new AssertionError("the process exited (" + process.exitValue() + "):\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + line + "' within " + WAIT + ":\n" + Files.readString(log));
    }

    private static void awaitLine(BlockingQueue<String> lines, String wanted) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String line = lines.poll(1, TimeUnit.SECONDS);
            if (wanted.equals(line)) {
                return;
            }
        }
        throw new AssertionError("the event stream sent no '" + wanted + "' within " + WAIT);
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("X-Taskpool-Request", "1")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), url + ": " + response.body());
        return response;
    }

    private static String awaitScrape(URI metrics, Predicate<String> done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String page = get(metrics.toString()).body();
        while (!done.test(page)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the worker's metrics did not reach the expected counts within " + WAIT + ":\n" + page);
            }
            Thread.sleep(200);
            page = get(metrics.toString()).body();
        }
        return page;
    }

    @Test
    void runAsAUserWithoutInfoAddsAndWarnsOnceThroughTheLogNamingTheRule() throws Exception {
        Path appDir = app().dir();
        setUser("worker-noinfo", DocumentedAclRules.without(DOCUMENTED.of("taskpool-worker"), "+info"));
        Path log = dir.resolve("run.log");
        Process run = start(log, "run", "--app", appDir.toString(), "--redis", as("worker-noinfo"), "tasks." + TASK + ".add", "1");
        assertTrue(run.waitFor(120, TimeUnit.SECONDS), "run ends");
        String printed = Files.readString(log);
        assertEquals(0, run.exitValue(), printed);
        List<String> warnings = printed.lines().filter(line -> line.contains("has replicas")).toList();
        assertEquals(1, warnings.size(), "one line about the replicas it cannot count:\n" + printed);
        assertTrue(warnings.getFirst().contains("WARN") && !printed.contains("WARNING:"),
                "through the application's logging, not java.util.logging:\n" + printed);
        assertTrue(warnings.getFirst().contains("(Redis user 'worker-noinfo' may not run INFO: add +info (see docs/acl.md))"),
                warnings.getFirst());
    }

    @Test
    void aRefusedCommandIsOneLineNamingTheUserAndTheRuleToAdd() {
        TestApp app = app();
        ok("run", "--app", app.dir().toString(), "--redis", as("taskpool-worker"), "tasks." + TASK + ".add", "1");
        setUser("ops-nozcount", DocumentedAclRules.without(DOCUMENTED.of("taskpool-operator"), "+zcount"));
        Result stats = execute("stats", "--redis", as("ops-nozcount"));
        assertEquals(1, stats.code(), stats.err());
        assertEquals("taskpool: Redis user 'ops-nozcount' may not run ZCOUNT (needed to read the counts of task " + TASK
                + "): add +zcount (see docs/acl.md)", stats.err().strip(), "the one line on stderr");

        // refused inside a script (Redis 7.0 names no command there; the script's line does)
        setUser("ops-nolrem", DocumentedAclRules.without(DOCUMENTED.of("taskpool-operator"), "+lrem"));
        Result cancel = execute("cancel", "--redis", as("ops-nolrem"), TASK, "1");
        assertEquals(1, cancel.code(), cancel.err());
        String line = cancel.err().strip();
        assertTrue(line.startsWith("taskpool: Redis user 'ops-nolrem' may not run LREM (needed to cancel ")
                && line.endsWith("): add +lrem (see docs/acl.md)") && line.lines().count() == 1, line);
        assertEquals("WAITING", Json.read(ok("get", "--redis", as("taskpool-operator"), TASK, "1").out(), "get")
                .path("status").asText(), "a refused script writes nothing");

        setUser("ops-nopattern", DocumentedAclRules.without(DOCUMENTED.of("taskpool-operator"), "&taskpool:{*}:events:*"));
        Result watch = execute("watch", "--redis", as("ops-nopattern"), "--for", "5s");
        assertEquals(1, watch.code(), watch.err());
        assertEquals("taskpool: Redis user 'ops-nopattern' may not use channel taskpool:{*}:events:*: add"
                + " &taskpool:{*}:events:* (see docs/acl.md)", watch.err().strip(), "the one line on stderr");
    }
}
