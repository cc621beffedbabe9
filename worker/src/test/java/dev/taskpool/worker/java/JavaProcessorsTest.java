package dev.taskpool.worker.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.spring.TaskSchedule;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.EmbeddedWorker;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Kinds processed by annotated Java methods, with no Spring: an embedded worker reads the annotations. */
class JavaProcessorsTest {
    /** The kinds of this test's beans (annotation values are constants: erased before and after each test). */
    private static final List<String> KINDS = List.of("jp.invoice.total", "jp.flaky", "jp.fromyao", "jp.tick", "jp.slow");

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    record Line(String item, int quantity, double price) {
    }

    record Invoice(String customer, List<Line> lines, Instant issuedAt) {
    }

    record Total(String customer, double amount, long taskId, int attempt) {
    }

    static final class Billing {
        final List<String> progress = new CopyOnWriteArrayList<>();

        @TaskProcessor(value = "jp.invoice.total", workerNums = 3, attempts = 0, timeoutSeconds = 20)
        public Total total(Invoice invoice, TaskContext context, String currency) {
            double amount = invoice.lines().stream().mapToDouble(l -> l.quantity() * l.price()).sum();
            context.progress(1, 1, "summed in " + currency);
            return new Total(invoice.customer() + "@" + invoice.issuedAt().getEpochSecond(), amount, context.id(),
                    context.attempt());
        }
    }

    static final class Flaky {
        final AtomicInteger runs = new AtomicInteger();

        @TaskProcessor(value = "jp.flaky", attempts = 2, attemptAfterMillis = 10)
        public String run(TaskContext context) throws Exception {
            runs.incrementAndGet();
            if (!context.lastAttempt()) {
                throw new java.io.IOException("run " + context.attempt() + " of " + context.maxRuns() + " failed");
            }
            return "ok on run " + context.attempt();
        }
    }

    @BeforeEach
    @AfterEach
    void eraseKinds() {
        TaskOperations operations = new TaskOperations(fixture.redis());
        KINDS.forEach(operations::erase);
    }

    @Test
    void anAnnotatedMethodGetsItsArgumentsAsRecordsAndItsRecordIsTheResponse() {
        Billing billing = new Billing();
        try (EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri()).processors(billing).start();
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            assertEquals(List.of("jp.invoice.total"), worker.kinds());
            Invoice invoice = new Invoice("ada", List.of(new Line("pen", 3, 1.5), new Line("ink", 1, 4.0)),
                    Instant.parse("2026-12-07T10:00:00Z"));
            long id = client.add("jp.invoice.total", invoice, "EUR").id();
            TaskInfo done = client.await("jp.invoice.total", id, Duration.ofSeconds(60));
            assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
            assertEquals("ada@" + Instant.parse("2026-12-07T10:00:00Z").getEpochSecond(), done.response().get("customer").asText());
            assertEquals(8.5, done.response().get("amount").asDouble());
            assertEquals(id, done.response().get("taskId").asLong(), "the context gives the task's id");
            assertEquals(1, done.response().get("attempt").asInt());
            assertEquals("summed in EUR", done.message(), "progress through the context lands in the hash");
            Map<String, String> definition = fixture.raw().hgetall(Keys.of("jp.invoice.total").definition());
            assertEquals("3", definition.get("worker_nums"), "the definition comes from the annotation: " + definition);
            assertEquals("0", definition.get("attempts"));
            assertEquals("20", definition.get("timeout"));
            assertEquals(String.valueOf(Integer.MAX_VALUE), definition.get("size"), "size 0 is unbounded");
            assertEquals("java.jp.invoice.total", definition.get("process"));
        }
    }

    @Test
    void anExceptionFailsTheRunAndTheContextCountsTheRuns() {
        Flaky flaky = new Flaky();
        try (EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri()).processors(flaky).start();
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            long id = client.add("jp.flaky").id();
            TaskInfo done = client.await("jp.flaky", id, Duration.ofSeconds(60));
            assertEquals(TaskStatus.SUCCESS, done.status(), done.toString());
            assertEquals("ok on run 3", done.response().asText());
            assertEquals(3, flaky.runs.get());
            assertEquals("run 2 of 3 failed", done.error(), "a checked exception's message is the last failed run's error");
        }
    }

    @Test
    void badArgumentsFailTheRunNamingTheParameter() {
        try (EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri()).processors(new Billing()).start();
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            long wrongType = client.add("jp.invoice.total", "not an invoice", "EUR").id();
            long tooMany = client.add("jp.invoice.total", Map.of("customer", "x", "lines", List.of()), "EUR", "extra").id();
            TaskInfo first = client.await("jp.invoice.total", wrongType, Duration.ofSeconds(60));
            TaskInfo second = client.await("jp.invoice.total", tooMany, Duration.ofSeconds(60));
            assertEquals(TaskStatus.FAILURE, first.status());
            assertTrue(first.error().contains("Billing.total(Invoice, TaskContext, String): argument 1 does not fit"),
                    first.error());
            assertEquals(TaskStatus.FAILURE, second.status());
            assertTrue(second.error().contains("takes 2 argument(s), the task has 3"), second.error());
        }
    }

    static final class FromYao {
        @TaskProcessor(value = "jp.fromyao", attempts = 7)
        public String upper(String text) {
            return text.toUpperCase();
        }
    }

    @Test
    void theAppDirectorysDefinitionWinsAndTheMethodReplacesItsProcess() {
        TestApp app = TestApp.in(dir).task("jp.fromyao", """
                {"name": "from the file", "worker_nums": 2, "attempts": 1, "attempt_after": 0, "timeout": 5, "size": 10,
                 "process": "scripts.text.Upper"}
                """).script("text", "function Upper(id, text) { return 'script:' + text; }");
        try (EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri(), app.dir()).processors(new FromYao()).start();
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            long id = client.add("jp.fromyao", "hi").id();
            assertEquals("HI", client.await("jp.fromyao", id, Duration.ofSeconds(60)).response().asText(),
                    "the Java method, not the file's script, processed it");
            Map<String, String> definition = fixture.raw().hgetall(Keys.of("jp.fromyao").definition());
            assertEquals("1", definition.get("attempts"), "the file's fields, not the annotation's: " + definition);
            assertEquals("10", definition.get("size"));
            assertEquals("from the file", definition.get("name"));
        }
    }

    static final class Ticker {
        final AtomicInteger ticks = new AtomicInteger();

        @TaskProcessor("jp.tick")
        @TaskSchedule(cron = "* * * * * *")
        public void tick(TaskContext context) {
            ticks.incrementAndGet();
        }
    }

    @Test
    void aScheduledMethodIsRunOnItsCronThroughTheQueue() {
        Ticker ticker = new Ticker();
        try (EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri()).processors(ticker).start()) {
            Wait.until("two firings of the every-second schedule", Duration.ofSeconds(60), () -> ticker.ticks.get() >= 2);
        } finally {
            fixture.raw().hdel(Keys.SCHEDULE_REGISTRY, "jp.tick");
        }
    }

    static final class Slow {
        @TaskProcessor(value = "jp.slow", attempts = 0, timeoutSeconds = 1)
        public String sleep() throws InterruptedException {
            Thread.sleep(Duration.ofMinutes(5));
            return "never";
        }
    }

    @Test
    void aRunPastItsTimeoutIsInterruptedAndWorkerNumsCanBeOverridden() {
        try (EmbeddedWorker worker = EmbeddedWorker.builder(TestRedis.uri()).processors(new Slow())
                .workerNums("jp.slow", 4).start();
             TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            List<Long> ids = List.of(client.add("jp.slow").id(), client.add("jp.slow").id(), client.add("jp.slow").id());
            for (long id : ids) {
                TaskInfo done = client.await("jp.slow", id, Duration.ofSeconds(60));
                assertEquals(TaskStatus.FAILURE, done.status());
                assertTrue(done.error().contains("timeout"), done.error());
            }
            String presence = fixture.raw().get(Keys.worker(worker.workerId()));
            assertTrue(presence.contains("\"slots\":4"), "the worker runs 4 at once: " + presence);
        }
    }
}
