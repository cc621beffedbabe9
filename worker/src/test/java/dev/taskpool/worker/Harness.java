package dev.taskpool.worker;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.exec.WorkerSettings;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A runtime (and optionally a worker) on an app, connected to the test Redis; closes all it opened. */
public final class Harness implements AutoCloseable {
    public static final WorkerSettings FAST = WorkerSettings.defaults()
            .withLease(Duration.ofSeconds(5), Duration.ofSeconds(1))
            .withRecoverInterval(Duration.ofSeconds(1))
            .withShutdownGrace(Duration.ofSeconds(2));

    private final List<AutoCloseable> opened = new ArrayList<>();
    public final RedisConnector redis;
    public final AppRuntime runtime;
    public final TaskpoolClient client;

    private Harness(Path app, ProcessRegistry registry, String uri) {
        redis = RedisConnector.connect(uri);
        opened.add(redis);
        try {
            runtime = AppRuntime.open(app, new AddStore(redis), registry, redis.clock());
            opened.add(runtime);
            client = TaskpoolClient.connect(uri);
            opened.add(client);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public static Harness open(Path app) {
        return new Harness(app, new ProcessRegistry(), TestRedis.uri());
    }

    public static Harness open(Path app, ProcessRegistry registry) {
        return new Harness(app, registry, TestRedis.uri());
    }

    /** On a Redis of the test's own (e.g. one it fills up or kills). */
    public static Harness open(Path app, ProcessRegistry registry, String redisUri) {
        return new Harness(app, registry, redisUri);
    }

    public Worker startWorker() {
        return startWorker(FAST);
    }

    public Worker startWorker(WorkerSettings settings) {
        Worker worker = new Worker(runtime, settings, List.of()).start();
        opened.add(worker);
        return worker;
    }

    public Object call(String process, Object... args) {
        return runtime.call(process, Arrays.asList(args));
    }

    /** {@code tasks.<task>.add(args...)} as a script calls it; the id, or 0 when the queue is full. */
    public long add(String task, Object... args) {
        return ((Number) call("tasks." + task + ".add", args)).longValue();
    }

    public TaskInfo await(String task, long id) {
        return client.await(task, id, Duration.ofSeconds(30));
    }

    /** Deletes every key of these tasks, for tests that need fixed ids (the seed's 1025). */
    public static void deleteTaskKeys(String... tasks) {
        try (RedisConnector connector = RedisConnector.connect(TestRedis.uri())) {
            var sync = connector.sync();
            for (String task : tasks) {
                // (a partitioned kind's partitions 1 and up are taskpool:{task~k}:*)
                for (String pattern : List.of("taskpool:{" + task + "}:*", "taskpool:{" + task + "~*}:*")) {
                    ScanCursor cursor = ScanCursor.INITIAL;
                    do {
                        KeyScanCursor<String> page = sync.scan(cursor, ScanArgs.Builder.matches(pattern).limit(500));
                        if (!page.getKeys().isEmpty()) {
                            sync.del(page.getKeys().toArray(String[]::new));
                        }
                        cursor = page;
                    } while (!cursor.isFinished());
                }
            }
        }
    }

    @Override
    public void close() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                System.err.println("closing " + opened.get(i) + " failed: " + e);
            }
        }
    }
}
