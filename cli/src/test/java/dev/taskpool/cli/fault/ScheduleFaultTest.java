package dev.taskpool.cli.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.TestApp;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code *}{@code /1 * * * * *} schedule fired by three `taskpool worker` JVMs, one killed with
 * kill -9 midway, then every worker stopped for ten seconds and one started again: never two tasks
 * for one fire time, firings go on after the kill, and the default {@code missed: once} makes one
 * catch-up task for the ten missed slots, not ten.
 */
class ScheduleFaultTest {
    private static final Duration LONG = Duration.ofSeconds(120);   // JVM starts on a loaded machine

    @TempDir
    Path dir;
    private LocalRedis redis;
    private RedisConnector connector;
    private RedisClusterCommands<String, String> sync;
    private String task;
    private Path app;
    private final List<WorkerProcess> workers = new ArrayList<>();

    @BeforeEach
    void startRedis() {
        redis = LocalRedis.start();
        connector = RedisConnector.connect(redis.uri());
        sync = connector.sync();
        task = TestRedis.uniqueTaskId("schedfault");
        app = TestApp.in(dir.resolve("app"))
                .task(task, 4, 0, 0, 20, 100_000, "scripts.sched.Work", "")
                .script("sched", "function Work(what) { return what; }")
                .write("schedules/tick.sch.yao", """
                        {"name": "Every second", "schedule": "*/1 * * * * *", "task": "%s", "args": ["tick"]}""".formatted(task))
                .dir();
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (WorkerProcess worker : workers) {
            worker.close();
        }
        connector.close();
        redis.close();
    }

    private WorkerProcess startWorker(String id) throws Exception {
        List<String> settings = new ArrayList<>(WorkerProcess.FAST);
        settings.addAll(List.of("--grace", "2s"));
        WorkerProcess worker = WorkerProcess.start(id, app, redis.uri(), dir, settings);
        workers.add(worker);
        return worker;
    }

    private void awaitPresence(WorkerProcess... expected) {
        for (WorkerProcess worker : expected) {
            Wait.until("worker " + worker.id() + " present", LONG, () -> {
                if (!worker.isAlive()) {
                    throw new AssertionError("worker " + worker.id() + " exited; log:\n" + worker.tail());
                }
                return sync.zscore(Keys.WORKERS, worker.id()) != null;
            });
        }
    }

    /** The fire_at of every task of the kind, in id order. */
    private List<Long> fireTimes() {
        Keys keys = Keys.of(task);
        String last = sync.get(keys.sequence());
        List<Long> times = new ArrayList<>();
        for (long id = 1; last != null && id <= Long.parseLong(last); id++) {
            String at = sync.hget(keys.task(id), "fire_at");
            if (at != null) {
                times.add(Long.parseLong(at));
            }
        }
        return times;
    }

    private long firedAfter(long at) {
        return fireTimes().stream().filter(time -> time > at).count();
    }

    @Test
    void threeWorkersOneKilledNeverFireASlotTwiceAndADowntimeIsCaughtUpOnce() throws Exception {
        WorkerProcess victim = startWorker("victim");
        WorkerProcess second = startWorker("second");
        WorkerProcess third = startWorker("third");
        awaitPresence(victim, second, third);
        Wait.until("five firings with three workers", LONG, () -> fireTimes().size() >= 5);

        victim.kill();
        long killedAt = System.currentTimeMillis();
        Wait.until("five firings after the kill", LONG, () -> firedAfter(killedAt) >= 5);

        second.terminate(Duration.ofSeconds(30));
        third.terminate(Duration.ofSeconds(30));
        List<Long> before = fireTimes();
        long lastFire = before.getLast();
        long stoppedAt = System.currentTimeMillis();
        Thread.sleep(10_000);
        assertEquals(before, fireTimes(), "nothing fires while every worker is stopped");

        WorkerProcess back = startWorker("back");
        awaitPresence(back);
        Wait.until("three firings after the downtime", LONG, () -> firedAfter(stoppedAt + 10_000) >= 3);
        back.terminate(Duration.ofSeconds(30));

        List<Long> times = fireTimes();
        assertEquals(times.size(), new HashSet<>(times).size(), "never two tasks for one fire time: " + times);
        for (int i = 1; i < times.size(); i++) {
            assertTrue(times.get(i) > times.get(i - 1), "one task per slot, in order: " + times);
            assertEquals(0, times.get(i) % 1000, "fire times are the cron's whole seconds: " + times);
        }
        long firstAfter = times.get(before.size());
        assertTrue(firstAfter - lastFire >= 10_000, "the missed slots made one catch-up task, not one each: last fire "
                + lastFire + ", next " + firstAfter + ", all " + times);
        String fired = sync.hget(Keys.of(task).schedule("tick"), "fired");
        assertEquals(Integer.toString(times.size()), fired, "every firing made its task");
        List<Long> lags = new ArrayList<>();
        for (long id = 1; id <= times.size(); id++) {
            Map<String, String> hash = sync.hgetall(Keys.of(task).task(id));
            lags.add(Long.parseLong(hash.get("created_at")) - Long.parseLong(hash.get("fire_at")));
        }
        lags.remove(before.size());   // (the catch-up is late by the downtime)
        lags.sort(null);
        System.out.printf("schedule fault test: %d firings, %d after the kill -9, catch-up after %.1f s down; fire time ->"
                + " task added: median %d ms, max %d ms%n", times.size(), times.stream().filter(time -> time > killedAt).count(),
                (firstAfter - lastFire) / 1e3, lags.get(lags.size() / 2), lags.getLast());
    }
}
