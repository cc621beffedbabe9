package dev.taskpool.cli;

import dev.taskpool.client.Subscription;
import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code taskpool demo}: the whole loop on a fresh machine. A throwaway Redis, a worker on the
 * bundled example app, a producer adding tasks, live progress, and a summary.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a throwaway Redis and a worker on the example app, add tasks, show live progress and a summary.")
final class DemoCommand implements Runnable {
    private static final String RESIZE = "image.resize";
    private static final String MAIL = "mail.send";

    @Option(names = "--tasks", paramLabel = "N", defaultValue = "24", description = "how many tasks to add (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--app", paramLabel = "DIR", defaultValue = "${env:TASKPOOL_HOME:-.}/examples/demo",
            description = "the example app (default ${DEFAULT-VALUE})")
    Path app;

    @Option(names = "--redis", paramLabel = "URL",
            description = "use this Redis instead of a throwaway one (its data is kept)")
    String redisUri;

    @Mixin
    Options.RedisTlsOption tls;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "120s",
            description = "give up waiting after this long (default ${DEFAULT-VALUE})")
    Duration timeout;

    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<Long, String> progressLines = new ConcurrentHashMap<>();
    private final Map<String, TaskStatus> finished = new ConcurrentHashMap<>();

    @Override
    public void run() {
        if (count < 1) {
            throw new IllegalArgumentException("--tasks must be at least 1, got " + count);
        }
        Path appDir = app.toAbsolutePath().normalize();
        if (!Files.isDirectory(appDir.resolve("tasks"))) {
            throw new TaskpoolException("the example app is not at " + appDir + "; run the demo through bin/taskpool"
                    + " or pass --app examples/demo");
        }
        PrintStream out = System.out;
        DemoRedis local = redisUri == null ? DemoRedis.start() : null;
        String uri = redisUri != null ? redisUri : local.uri();
        out.println("taskpool demo");
        out.println("  Redis:  " + (local != null ? local + " (throwaway)" : uri));
        out.println("  app:    " + appDir);
        try (RedisConnector connector = RedisConnector.connect(uri, RedisConnector.DEFAULT_COMMAND_TIMEOUT, tls.settings());
             AppRuntime runtime = AppRuntime.open(appDir, new AddStore(connector), new ProcessRegistry(), connector.clock());
             TaskpoolClient client = TaskpoolClient.connect(uri, tls.settings())) {
            if (runtime.definition(RESIZE).isEmpty() || runtime.definition(MAIL).isEmpty()) {
                throw new TaskpoolException("the demo needs the example app's tasks " + RESIZE + " and " + MAIL
                        + "; " + appDir + " has " + runtime.taskIds());
            }
            List<Subscription> subscriptions = List.of(client.subscribeAll(RESIZE, this::record),
                    client.subscribeAll(MAIL, this::record));
            Worker worker = new Worker(runtime, WorkerSettings.defaults().withWorkerId("demo-worker"), List.of()).start();
            out.println("  worker: demo-worker, " + runtime.definitions().size() + " tasks, " + runtime.definitions().stream()
                    .mapToInt(d -> d.workerNums()).sum() + " slots");
            out.println();
            long started = System.nanoTime();
            List<long[]> added = produce(runtime);
            boolean done;
            if (Terminal.stdout().interactive()) {
                // the worker's log lines (a retry, a failure) are printed above the progress block
                // when it is redrawn, instead of landing in it
                try (HeldLogs logs = HeldLogs.hold()) {
                    done = watch(out, started, added.size(), logs);
                    logs.take().forEach(out::println);
                }
            } else {
                done = watch(out, started, added.size(), null);
            }
            subscriptions.forEach(Subscription::close);
            summarize(out, client, added, started, done);
            worker.close();
        } finally {
            if (local != null) {
                local.close();
            }
        }
    }

    /** Adds the tasks through the processes scripts use ({@code tasks.<id>.add}); returns {kind, id}. */
    private List<long[]> produce(AppRuntime runtime) {
        List<long[]> added = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            boolean image = i % 2 == 1;
            Object id = image
                    ? runtime.call("tasks." + RESIZE + ".add", List.of("photo-" + i + ".jpg", 5 + i % 6))
                    : runtime.call("tasks." + MAIL + ".add", List.of("user" + i + "@example.com"));
            added.add(new long[] {image ? 0 : 1, ((Number) id).longValue()});
        }
        return added;
    }

    private void record(TaskEvent event) {
        counts.computeIfAbsent(event.event(), e -> new AtomicInteger()).incrementAndGet();
        String key = event.task() + "#" + event.id();
        switch (event.event()) {
            case TaskEvent.PROGRESS -> progressLines.put(event.id(), String.format("%-12s #%-4d %s %s", event.task(), event.id(),
                    bar(event.message().path("current").asLong(), event.message().path("total").asLong(), 20),
                    Visible.line(event.message().path("message").asText())));
            case TaskEvent.SUCCESS -> {
                finished.put(key, TaskStatus.SUCCESS);
                progressLines.remove(event.id());
            }
            case TaskEvent.FAILURE -> {
                finished.put(key, TaskStatus.FAILURE);
                progressLines.remove(event.id());
            }
            default -> {
            }
        }
    }

    /**
     * Redraws the progress block in place until every task ended or the timeout passed, the log
     * lines held back meanwhile printed above it ({@code logs}); without a terminal ({@code logs}
     * null), a line of counts every second.
     */
    private boolean watch(PrintStream out, long started, int total, HeldLogs logs) {
        boolean terminal = logs != null;
        int drawn = 0;
        long lastPlain = 0;
        long deadline = started + timeout.toNanos();
        while (finished.size() < total && System.nanoTime() < deadline) {
            List<String> lines = new ArrayList<>();
            lines.add(String.format("%s %d/%d done  started %d  retries %d  failed %d  %.1fs", bar(finished.size(), total, 30),
                    finished.size(), total, count(TaskEvent.STARTED), count(TaskEvent.RETRY), count(TaskEvent.FAILURE),
                    (System.nanoTime() - started) / 1e9));
            new TreeMap<>(progressLines).values().stream().limit(4).forEach(line -> lines.add("  " + line));
            if (terminal) {
                StringBuilder frame = new StringBuilder();
                if (drawn > 0) {
                    frame.append("\033[").append(drawn).append("F");
                }
                // the log lines scroll up above the block; each line clears what is left of the row
                List<String> logged = logs.take();
                for (String line : logged) {
                    frame.append("\033[2K").append(line).append("\033[K\n");
                }
                for (String line : lines) {
                    frame.append("\033[2K").append(line).append("\033[K\n");
                }
                int blank = Math.max(0, drawn - logged.size() - lines.size());   // rows left of the last block
                for (int i = 0; i < blank; i++) {
                    frame.append("\033[2K\n");
                }
                out.print(frame);
                out.flush();
                drawn = lines.size() + blank;
            } else if (System.nanoTime() - lastPlain > 1_000_000_000L) {
                out.println(lines.getFirst());
                lastPlain = System.nanoTime();
            }
            sleep(150);
        }
        return finished.size() >= total;
    }

    private void summarize(PrintStream out, TaskpoolClient client, List<long[]> added, long started, boolean done) {
        double seconds = (System.nanoTime() - started) / 1e9;
        Map<String, Integer> byStatus = new TreeMap<>();
        TaskInfo sample = null;
        int runs = 0;
        for (long[] task : added) {
            String kind = task[0] == 0 ? RESIZE : MAIL;
            TaskInfo info = client.get(kind, task[1]).orElse(null);
            String status = info == null ? "MISSING" : info.status().name();
            byStatus.merge(kind + " " + status, 1, Integer::sum);
            if (info != null) {
                runs += info.attempt();
                if (sample == null && kind.equals(RESIZE) && info.status() == TaskStatus.SUCCESS) {
                    sample = info;
                }
            }
        }
        out.println();
        out.printf("Summary: %d tasks in %.1f s (%.1f tasks/s), %d runs in all (%d retries)%n", added.size(), seconds,
                added.size() / seconds, runs, runs - added.size());
        byStatus.forEach((key, value) -> out.printf("  %-24s %d%n", key, value));
        if (!done) {
            out.println("  (stopped waiting after " + Durations.text(timeout) + ")");
        }
        if (sample != null) {
            out.println();
            out.println("One task, as `taskpool get " + RESIZE + " " + sample.id() + "` prints it:");
            out.println(RunCommand.format(sample.toJson()));
        }
    }

    private int count(String event) {
        AtomicInteger value = counts.get(event);
        return value == null ? 0 : value.get();
    }

    static String bar(long current, long total, int width) {
        int filled = total <= 0 ? 0 : (int) Math.min(width, current * width / total);
        return "[" + "#".repeat(filled) + "-".repeat(width - filled) + "]";
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
