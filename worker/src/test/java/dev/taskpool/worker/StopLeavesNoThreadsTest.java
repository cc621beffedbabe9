package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.HotSpotDiagnosticMXBean;
import dev.taskpool.core.json.Json;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.exec.Worker;
import dev.taskpool.worker.process.ProcessRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopped worker leaves no thread of its own behind, virtual ones included (they are listed from
 * a thread dump, which names them): the only one allowed to outlive the stop is the run thread of
 * a processor that ignores its interrupt, and that one ends as soon as its processor returns.
 */
class StopLeavesNoThreadsTest {
    private static final String PROCESS = "models.stubborn.work";

    @TempDir
    Path dir;

    @Test
    void theThreadsThatStopATimedOutRunEndWithTheWorker() {
        String task = TestRedis.uniqueTaskId("threads");
        TestApp app = TestApp.in(dir).task(task, 1, 1, 0, 1, 10, PROCESS, "");
        AtomicBoolean interrupted = new AtomicBoolean();
        AtomicBoolean released = new AtomicBoolean();
        ProcessRegistry registry = new ProcessRegistry().register(PROCESS, args -> {
            while (!released.get()) {   // ignores its interrupt, as stuck code does
                if (Thread.interrupted()) {
                    interrupted.set(true);
                }
                LockSupport.parkNanos(1_000_000);
            }
            return "late";
        });
        try (Harness harness = Harness.open(app.dir(), registry)) {
            // Abandoned only after a minute: the stop of the timed-out run is still waiting when the worker stops.
            Worker worker = harness.startWorker(Harness.FAST.withAbandonAfter(Duration.ofSeconds(60))
                    .withShutdownGrace(Duration.ofMillis(500)));
            harness.add(task, "stuck");
            Wait.until("the run to be interrupted at its 1 s timeout", Duration.ofSeconds(30), interrupted::get);
            try {
                worker.close();
                List<String> left = threadsOf(task);
                assertEquals(1, left.size(), "after the stop only the run thread whose processor ignores its interrupt"
                        + " is left: " + left);
                assertTrue(left.getFirst().startsWith("run-" + task + "-"), "the one left is that run's: " + left);
            } finally {
                released.set(true);
            }
            Wait.until("no thread of " + task + " to be left once its processor returned", Duration.ofSeconds(30),
                    () -> threadsOf(task).isEmpty());
        }
    }

    /** The names of the live threads, platform and virtual, that name {@code task}. */
    static List<String> threadsOf(String task) {
        List<String> names = new ArrayList<>();
        for (JsonNode container : threadDump().path("threadDump").path("threadContainers")) {
            for (JsonNode thread : container.path("threads")) {
                String name = thread.path("name").asText();
                if (name.contains(task)) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    private static JsonNode threadDump() {
        try {
            Path file = Files.createTempDirectory("threads").resolve("dump.json");
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
            try {
                return Json.read(Files.readString(file), "the thread dump");
            } finally {
                Files.delete(file);
                Files.delete(file.getParent());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
