package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskEvent.Field;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.RunStore;
import dev.taskpool.core.run.RunStoreTest;
import dev.taskpool.support.TestRedis;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The contract between the events built in Lua and in Java: every transition is run through the
 * real scripts on a real Redis, every message published on the task channels and the control
 * channel is captured, and each must carry the fields {@link TaskEvent} lists for its type, of the
 * JSON types it lists, and no others. Every type listed must be seen, so the lists hold no type
 * that nothing publishes. (In a Cluster the same runs on shard channels: {@code ShardedEventModeTest}.)
 */
class EventSchemaTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofHours(1);

    record Heard(String channel, String message) {
    }

    @Test
    void everyPublishedEventHasTheFieldsTaskEventListsForItsType() throws Exception {
        String task = TestRedis.uniqueTaskId("schema");
        Keys keys = Keys.of(task);
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri());
             StatefulRedisPubSubConnection<String, String> listener = redis.newPubSubConnection()) {
            BlockingQueue<Heard> heard = new LinkedBlockingQueue<>();
            listener.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    heard.add(new Heard(channel, message));
                }

                @Override
                public void message(String pattern, String channel, String message) {
                    heard.add(new Heard(channel, message));
                }
            });
            listener.sync().psubscribe(keys.eventsPattern());
            listener.sync().subscribe(keys.control());
            runEveryTransition(redis, task, keys);
            checkEveryType(heard, keys);
        }
    }

    /**
     * Reads what {@code heard} got until the kind's {@code resumed} (the last transition), and
     * checks each message against its type's fields; every type listed must have been seen.
     */
    static void checkEveryType(BlockingQueue<Heard> heard, Keys keys) throws InterruptedException {
        List<String> problems = new ArrayList<>();
        Set<String> seenTask = new TreeSet<>();
        Set<String> seenControl = new TreeSet<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // One connection hears the messages in the order Redis published them: the last is `resumed`.
        boolean resumed = false;
        while (!resumed && System.nanoTime() < deadline) {
            Heard one = heard.poll(1, TimeUnit.SECONDS);
            if (one == null) {
                continue;
            }
            JsonNode message = Json.read(one.message(), "event message");
            String type = message.path("event").asText();
            boolean control = one.channel().equals(keys.control());
            Map<String, List<Field>> schema = control ? TaskEvent.CONTROL_EVENTS : TaskEvent.TASK_EVENTS;
            (control ? seenControl : seenTask).add(type);
            resumed = control && type.equals(TaskEvent.RESUMED);
            List<Field> fields = schema.get(type);
            if (fields == null) {
                problems.add("no fields listed for " + (control ? "control " : "") + "event " + type + ": " + message);
            } else {
                problems.addAll(check(fields, message));
            }
        }
        assertEquals(List.of(), problems);
        assertEquals(new TreeSet<>(TaskEvent.TASK_EVENTS.keySet()), seenTask, "every task event type was published");
        assertEquals(new TreeSet<>(TaskEvent.CONTROL_EVENTS.keySet()), seenControl, "every control event type was published");
    }

    /** What is wrong with {@code message} against its type's fields: a field missing, of another type, or not listed. */
    private static List<String> check(List<Field> fields, JsonNode message) {
        List<String> problems = new ArrayList<>();
        for (Field field : fields) {
            JsonNode value = message.get(field.name());
            if (value == null) {
                if (field.always()) {
                    problems.add(message + " lacks " + field.name());
                }
            } else if (!field.type().admits(value)) {
                problems.add(message + ": " + field.name() + " is no " + field.type());
            }
        }
        for (Iterator<String> names = message.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (fields.stream().noneMatch(field -> field.name().equals(name))) {
                problems.add(message + " has " + name + ", which is not listed for its type");
            }
        }
        return problems;
    }

    /**
     * Runs every transition that publishes, through the real scripts and the Java that builds the
     * rest, the way the workers and the operators' commands do; resuming the kind comes last.
     */
    static void runEveryTransition(RedisConnector redis, String task, Keys keys) throws Exception {
        AddStore adds = new AddStore(redis);
        RunStore store = new RunStore(redis);
        TaskOperations operations = new TaskOperations(redis, Clock.fixed(Instant.ofEpochMilli(NOW + 500_000), ZoneOffset.UTC));
        adds.publish(RunStoreTest.definition(task, 100, 1));
        for (int i = 1; i <= 5; i++) {
            adds.add(task, null, "[" + i + "]", NOW);   // added: ids 1 to 5
        }
        adds.addWith(task, 50L, "[50]", AddOptions.delay(Duration.ofDays(1)), NOW);   // added with due_at: id 50, never due here
        // #1: started, progress (from its run), success.
        FetchedTask first = fetchOne(store, task, NOW);
        store.progress(task, first.id(), 1, 2, "half", NOW + 1, first.token());
        store.complete(first, TaskStatus.SUCCESS, "{\"rows\":[1,2]}", NOW + 2, KEEP).get();
        // #2: started, retry (the worker's: with no wait it waits at the back of the queue, behind #5).
        FetchedTask second = fetchOne(store, task, NOW + 3);
        store.retry(second, "boom", NOW + 4, Duration.ZERO, true).get();
        // #3: started, requeued, then started and lost until the recoverer fails it (retry, failure).
        FetchedTask third = fetchOne(store, task, NOW + 6);
        store.release(third, NOW + 7).get();
        long at = NOW + 10;
        for (int run = 0; run < 2; run++, at += 100_000) {
            assertEquals(third.id(), fetchOne(store, task, at).id());
            store.recover(task, at + 50_000, 10).get();   // retry the first time, failure the second
        }
        // A hash holding garbage fails at the fetch that takes it: a failure that never ran has no attempt.
        redis.sync().hset(keys.task(99), "status", "BOGUS");
        redis.sync().rpush(keys.waiting(), "99");
        store.fetch(task, 1, at, at + 10_000, "w", KEEP).get();
        // #4 is canceled while WAITING, #5 while RUNNING (which also asks its worker to stop: cancel).
        operations.cancel(task, 4, "ops");
        assertEquals(5, fetchOne(store, task, at + 1).id());
        operations.cancel(task, 5, null);
        // Operators: retry one task (resubmitted), then all the failed ones (one each, and the
        // control message with the count), delete a finished one, pause and resume the kind.
        operations.retry(task, 4, "ops");
        operations.retryFailed(task, "ops");
        operations.delete(task, first.id());
        operations.runNow(task, 50, "ops");   // the delayed #50 goes to the front of the queue (promoted)
        operations.pause(task, "ops");
        operations.resume(task, null);
    }

    private static FetchedTask fetchOne(RunStore store, String task, long now) throws Exception {
        List<FetchedTask> runs = store.fetch(task, 1, now, now + 10_000, "w", KEEP).get();
        assertEquals(1, runs.size(), "one task fetched");
        assertNotNull(runs.getFirst());
        return runs.getFirst();
    }
}
