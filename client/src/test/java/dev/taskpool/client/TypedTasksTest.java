package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.taskpool.core.TaskFailedException;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.testing.RedisFixture;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Records and java.time values as task arguments, and responses read back as Java types: through
 * a real Redis, the run ended as a worker ends it (its processor's result written by the same
 * mapper), a failed task and a response of the wrong shape each giving an exception that says so.
 */
class TypedTasksTest {
    private static final Duration KEEP = Duration.ofSeconds(60);
    private static final Duration LIMIT = Duration.ofSeconds(60);

    record Line(String sku, int quantity) {
    }

    record Order(String number, List<Line> lines, Instant placedAt, LocalDate deliverOn) {
    }

    record Receipt(String order, long total, Instant paidAt, List<String> notes, Optional<String> coupon) {
    }

    private static final Order ORDER = new Order("A-17", List.of(new Line("tea", 2), new Line("cup", 1)),
            Instant.parse("2025-03-01T09:30:00.250Z"), LocalDate.of(2025, 3, 4));

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("typed");

    private String publishedTask() {
        String task = fixture.task();
        new AddStore(fixture.redis()).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 2, 0, Duration.ZERO,
                Duration.ofSeconds(5), 1000, "scripts.x.Run", TaskEvents.NONE, KEEP));
        return task;
    }

    /** Takes the kind's waiting runs as a worker does. */
    private List<FetchedTask> fetch(String task) throws Exception {
        long now = System.currentTimeMillis();
        return new RunStore(fixture.redis()).fetch(task, 100, now, now + 60_000, "test-worker", KEEP).get(60, TimeUnit.SECONDS);
    }

    private void end(FetchedTask run, TaskStatus status, String payload) throws Exception {
        new RunStore(fixture.redis()).complete(run, status, payload, System.currentTimeMillis(), KEEP).get(60, TimeUnit.SECONDS);
    }

    @Test
    void aRecordArgumentAndItsTypedResponseRoundTripThroughRedis() throws Exception {
        String task = publishedTask();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            long id = client.add(task, ORDER, 3).id();
            assertEquals("[{\"number\":\"A-17\",\"lines\":[{\"sku\":\"tea\",\"quantity\":2},{\"sku\":\"cup\",\"quantity\":1}],"
                            + "\"placedAt\":\"2025-03-01T09:30:00.250Z\",\"deliverOn\":\"2025-03-04\"},3]",
                    fixture.raw().hget(Keys.of(task).task(id), "args"), "the stored arguments: ISO-8601 text, no timestamps");
            assertThrows(TaskpoolException.class, () -> client.get(task, id).orElseThrow().response(Receipt.class));

            CompletableFuture<Receipt> awaited = CompletableFuture.supplyAsync(
                    () -> client.await(task, id, LIMIT, Receipt.class));
            FetchedTask run = fetch(task).getFirst();
            List<Object> args = Json.readArgs(run.args(), "args");
            Order received = Json.convert(args.getFirst(), Order.class);
            assertEquals(ORDER, received, "the worker binds the argument back to the record");
            Receipt receipt = new Receipt(received.number(), 3, Instant.parse("2025-03-01T09:31:00Z"),
                    List.of("paid", "boxed"), Optional.of("SPRING"));
            end(run, TaskStatus.SUCCESS, Json.write(receipt));

            assertEquals(receipt, awaited.get(60, TimeUnit.SECONDS));
            TaskInfo done = client.get(task, id).orElseThrow();
            assertEquals(receipt, done.response(Receipt.class));
            assertEquals("2025-03-01T09:31:00Z", done.response(new TypeReference<Map<String, Object>>() { }).get("paidAt"));
            assertEquals(receipt, client.await(task, id, LIMIT, new TypeReference<Receipt>() { }), "an ended task at once");
        }
    }

    @Test
    void everyKindOfAddTakesRecords() throws Exception {
        String task = publishedTask();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            List<Long> ids = new ArrayList<>();
            ids.add(client.addWith(task, AddOptions.priority(2), ORDER).id());
            ids.add(client.addAsync(task, ORDER).get(60, TimeUnit.SECONDS).id());
            ids.add(client.addWithAsync(task, AddOptions.none(), List.of(ORDER)).get(60, TimeUnit.SECONDS).id());
            ids.addAll(client.addAll(task, List.of(List.of(ORDER), List.of(ORDER))));
            List<FetchedTask> runs = fetch(task);
            assertEquals(5, runs.size());
            for (FetchedTask run : runs) {
                assertEquals(ORDER, Json.convert(Json.readArgs(run.args(), "args").getFirst(), Order.class), "task #" + run.id());
            }
        }
    }

    @Test
    void aValueThatCannotBeJsonIsRefusedNamingTheTaskAndWhereItIs() {
        String task = publishedTask();
        record Holder(Object thing) {
        }
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            TaskpoolException e = assertThrows(TaskpoolException.class, () -> client.add(task, "fine", new Holder(new Object())));
            assertTrue(e.getMessage().startsWith("cannot serialise the arguments of task " + task + " to JSON at [1].thing: "),
                    e.getMessage());
            CompletableFuture<?> async = client.addAsync(task, new Holder(new Object()));
            assertTrue(async.isCompletedExceptionally());
        }
    }

    @Test
    void aFailedTaskGivesItsErrorInsteadOfAResponse() throws Exception {
        String task = publishedTask();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            long id = client.add(task, ORDER).id();
            end(fetch(task).getFirst(), TaskStatus.FAILURE, "card declined");

            TaskFailedException failed = assertThrows(TaskFailedException.class, () -> client.await(task, id, LIMIT, Receipt.class));
            assertEquals(task, failed.task());
            assertEquals(id, failed.id());
            assertEquals("card declined", failed.error());
            assertEquals(1, failed.attempt());
            assertEquals("task " + task + " #" + id + " failed after 1 run: card declined", failed.getMessage());
            assertEquals(TaskStatus.FAILURE, client.await(task, id, LIMIT).status(), "the untyped await still returns it");
            assertThrows(TaskFailedException.class, () -> client.get(task, id).orElseThrow().response(Receipt.class));
        }
    }

    @Test
    void aResponseThatDoesNotFitTheTypeIsNamedWithTheTaskTheTypeAndWhy() throws Exception {
        String task = publishedTask();
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            long id = client.add(task, ORDER).id();
            end(fetch(task).getFirst(), TaskStatus.SUCCESS, "{\"order\":\"A-17\",\"total\":\"three\"}");

            TaskpoolException wrong = assertThrows(TaskpoolException.class, () -> client.await(task, id, LIMIT, Receipt.class));
            assertTrue(wrong.getMessage().startsWith("task " + task + " #" + id + ", its response: cannot convert object "
                    + "{\"order\":\"A-17\",\"total\":\"three\"} to " + Receipt.class.getTypeName() + " at total: "), wrong.getMessage());
            assertTrue(wrong.getMessage().contains("\"three\""), wrong.getMessage());
            assertEquals(Map.of("order", "A-17", "total", "three"), client.await(task, id, LIMIT, Map.class));
        }
    }
}
