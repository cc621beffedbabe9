package dev.taskpool.worker.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A timeout's interrupt is aimed at one run's use of a pooled script context. When that run gives
 * the context back between the moment the stopper looked it up and the moment it interrupts, the
 * interrupt must not reach the run that borrowed the same context next (it never timed out).
 * The two steps are held apart here by the lookup seam, so the race happens every time.
 */
class InterruptAfterGiveBackTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path app;

    /** Scripts call {@code Process('enter', label)} once, then poll {@code Process('released', label)}. */
    private static final class Gates implements HostBridge {
        final Map<String, CountDownLatch> entered = new ConcurrentHashMap<>();
        final Set<String> released = ConcurrentHashMap.newKeySet();

        CountDownLatch entered(String label) {
            return entered.computeIfAbsent(label, l -> new CountDownLatch(1));
        }

        @Override
        public Object process(String name, List<Object> args) {
            String label = (String) args.getFirst();
            if (name.equals("enter")) {
                entered(label).countDown();
                return null;
            }
            return released.contains(label);
        }

        @Override
        public void progress(List<Object> args) {
        }

        @Override
        public void log(String level, String text) {
        }
    }

    @Test
    void anInterruptForARunThatGaveItsContextBackDoesNotReachTheNextRunInThatContext() throws Exception {
        Files.createDirectories(app.resolve("scripts"));
        // The loop calls the host on every turn: an interrupt that reaches the context stops it at once.
        Files.writeString(app.resolve("scripts/race.js"), """
                function spin(label) {
                  Process('enter', label);
                  while (!Process('released', label)) {}
                  return label;
                }
                """);
        Gates gates = new Gates();
        try (ScriptEngine engine = ScriptEngine.load(app, gates)) {
            AtomicReference<Object> resultA = new AtomicReference<>();
            Thread runA = Thread.ofPlatform().name("run-A").start(() -> resultA.set(call(engine, "A")));
            assertTrue(gates.entered("A").await(WAIT.toSeconds(), TimeUnit.SECONDS), "run A started its script");

            // The stopper looks up what run A holds, and is held right there until run B runs.
            CountDownLatch lookedUp = new CountDownLatch(1);
            CountDownLatch runBInside = new CountDownLatch(1);
            AtomicReference<Boolean> stopped = new AtomicReference<>();
            Thread stopper = Thread.ofPlatform().name("stopper").start(() -> stopped.set(engine.interrupt(runA,
                    Duration.ofSeconds(20), () -> {
                        lookedUp.countDown();
                        awaitQuietly(runBInside);
                    })));
            assertTrue(lookedUp.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the stopper looked run A's context up");

            // Meanwhile run A ends on its own and gives its context back...
            gates.released.add("A");
            runA.join(WAIT.toMillis());
            assertEquals("A", resultA.get(), "run A ended normally before the interrupt came");

            // ...and run B borrows that same context.
            AtomicReference<Object> resultB = new AtomicReference<>();
            Thread runB = Thread.ofPlatform().name("run-B").start(() -> resultB.set(call(engine, "B")));
            assertTrue(gates.entered("B").await(WAIT.toSeconds(), TimeUnit.SECONDS), "run B started its script");
            assertEquals(1, engine.contextsCreated(), "run B runs in the context run A gave back");

            runBInside.countDown();
            stopper.join(WAIT.toMillis());
            assertFalse(stopper.isAlive(), "the stopper is done");
            gates.released.add("B");
            runB.join(WAIT.toMillis());
            assertFalse(runB.isAlive(), "run B is done");
            assertEquals("B", resultB.get(), "run B, which never timed out, is not interrupted by run A's stop");
            assertEquals(Boolean.TRUE, stopped.get(), "nothing of run A was left to stop");
        }
    }

    private static Object call(ScriptEngine engine, String label) {
        try {
            return engine.call("race", "spin", List.of(label));
        } catch (RuntimeException e) {
            return e;
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
