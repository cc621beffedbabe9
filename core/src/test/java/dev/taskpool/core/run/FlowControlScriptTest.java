package dev.taskpool.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The flow controls as the scripts enforce them, against a real Redis: unique keys, priorities, the
 * cap on running tasks, the rate of starts and a processor's hold. Time is passed in, so nothing sleeps.
 */
public class FlowControlScriptTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofSeconds(60);

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("flow");

    private AddStore adds;
    private RunStore runs;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void connect() {
        adds = new AddStore(fixture.redis());
        runs = new RunStore(fixture.redis());
        raw = fixture.raw();
        task = fixture.task();
        keys = Keys.of(task);
    }

    private void publish(FlowControl flow) {
        adds.publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 10, 3, Duration.ZERO, Duration.ofSeconds(5),
                100, "scripts.x.Run", TaskEvents.NONE, KEEP, Backoff.FIXED, flow));
    }

    private AddResult add(String args, AddOptions options, long now) {
        return adds.addWith(task, null, args, options, now);
    }

    private List<FetchedTask> fetch(int max, long now) throws Exception {
        return runs.fetch(task, max, now, now + 10_000, "w", KEEP).get();
    }

    private RunStore.FinishResult round(List<FetchedTask> ending, int max, long now) throws Exception {
        return runs.finish(task, "w", ending.stream().map(run -> new RunStore.Completion(run, TaskStatus.SUCCESS, "{}")).toList(),
                max, now, now + 10_000, KEEP).get();
    }

    @Test
    void aSecondAddWithTheKeyAnswersTheWaitingTasksId() {
        publish(FlowControl.NONE);
        AddResult first = add("[1]", AddOptions.key("invoice-42"), NOW);
        AddResult second = add("[2]", AddOptions.key("invoice-42"), NOW + 1);
        assertFalse(first.duplicate());
        assertTrue(second.duplicate());
        assertEquals(first.id(), second.id());
        assertEquals(1, raw.llen(keys.waiting()), "one task was added");
        assertEquals("[1]", raw.hget(keys.task(first.id()), "args"), "the duplicate changed nothing");
        assertEquals("invoice-42", raw.hget(keys.task(first.id()), "key"));
        assertEquals("1", raw.hget(keys.stats(), "duplicates"));
        assertEquals(Long.toString(first.id()), raw.get(keys.unique("invoice-42")));
        assertTrue(raw.pttl(keys.unique("invoice-42")) > 0, "a unique key always expires");
        assertFalse(add("[3]", AddOptions.key("invoice-43"), NOW).duplicate(), "another key is another task");
    }

    @Test
    void aKeyWhoseTaskWasDeletedByHandHealsOnTheNextAdd() {
        publish(FlowControl.NONE);
        AddResult first = add("[1]", AddOptions.key("k"), NOW);
        raw.del(keys.task(first.id()));
        AddResult again = add("[1]", AddOptions.key("k"), NOW);
        assertFalse(again.duplicate());
        assertTrue(again.id() != first.id());
        assertEquals(Long.toString(again.id()), raw.get(keys.unique("k")));
    }

    @Test
    void theKeyIsFreedWhenItsTaskEndsOrHeldForUniqueFor() throws Exception {
        publish(FlowControl.NONE);
        AddResult first = add("[1]", AddOptions.key("k"), NOW);
        round(fetch(1, NOW), 0, NOW + 10);
        assertNull(raw.get(keys.unique("k")), "no unique.for: the end frees the key");
        assertFalse(add("[1]", AddOptions.key("k"), NOW + 20).duplicate());

        task = fixture.newTask("kept");
        keys = Keys.of(task);
        publish(new FlowControl(0, 0, Duration.ZERO, false, Duration.ofSeconds(60)));
        AddResult kept = add("[1]", AddOptions.key("k"), NOW);
        round(fetch(1, NOW), 0, NOW + 10);
        AddResult within = add("[1]", AddOptions.key("k"), NOW + 59_000);
        assertTrue(within.duplicate(), "within unique.for the ended task still holds its key");
        assertEquals(kept.id(), within.id());
        assertTrue(raw.pttl(keys.unique("k")) <= 60_000);
        assertFalse(add("[1]", AddOptions.key("k"), NOW + 61_000).duplicate(), "past unique.for the key is free");
    }

    @Test
    void uniqueByArgumentsDeduplicatesSingleAddsAndBatches() {
        publish(new FlowControl(0, 0, Duration.ZERO, true, Duration.ZERO));
        long one = add("[1]", AddOptions.none(), NOW).id();
        AddResult same = add("[1]", AddOptions.none(), NOW);
        assertTrue(same.duplicate());
        assertEquals(one, same.id());
        List<Long> batch = adds.addAll(task, List.of(new NewTask(null, "[3]"), new NewTask(null, "[3]"), new NewTask(null, "[1]")),
                NOW);
        assertEquals(batch.get(0), batch.get(1), "a repeat within the batch gets the first one's id");
        assertEquals(one, batch.get(2));
        assertEquals(2, raw.llen(keys.waiting()));
        assertEquals("3", raw.hget(keys.stats(), "duplicates"));
    }

    @Test
    void eightAddsOfOneKeyInOneCallMakeOneTask() throws Exception {
        publish(FlowControl.NONE);
        List<java.util.concurrent.CompletableFuture<AddResult>> answers = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            answers.add(adds.addWithAsync(task, null, "[" + i + "]", AddOptions.key("same"), NOW));
        }
        long id = answers.getFirst().get().id();
        int duplicates = 0;
        for (var answer : answers) {
            assertEquals(id, answer.get().id());
            duplicates += answer.get().duplicate() ? 1 : 0;
        }
        assertEquals(7, duplicates);
        assertEquals(1, raw.llen(keys.waiting()));
    }

    @Test
    void higherPrioritiesStartFirstAndOldestFirstWithinALevel() throws Exception {
        publish(FlowControl.NONE);
        long low1 = add("[0]", AddOptions.none(), NOW).id();
        long low2 = add("[0]", AddOptions.none(), NOW).id();
        long mid = add("[1]", AddOptions.priority(1), NOW).id();
        long high = add("[3]", AddOptions.priority(3), NOW).id();
        assertEquals("3", raw.hget(keys.task(high), "priority"));
        assertNull(raw.hget(keys.task(low1), "priority"), "the default level writes nothing");
        assertEquals(List.of(high, mid, low1, low2), fetch(10, NOW).stream().map(FetchedTask::id).toList());
    }

    @Test
    void aLowLevelGetsReservedTurnsUnderAStreamOfHighOnes() throws Exception {
        publish(FlowControl.NONE);
        long low = add("[0]", AddOptions.none(), NOW).id();
        for (int i = 0; i < 40; i++) {
            add("[3]", AddOptions.priority(3), NOW);
        }
        List<Long> order = new java.util.ArrayList<>();
        for (int i = 0; i < 41; i++) {
            order.add(fetch(1, NOW).getFirst().id());
        }
        int at = order.indexOf(low);
        assertTrue(at >= 0 && at < 32, "level 0 started within 32 starts (at " + at + ")");
    }

    @Test
    void maxRunningCapsTheRunsOfAllWorkers() throws Exception {
        publish(new FlowControl(2, 0, Duration.ZERO, false, Duration.ZERO));
        for (int i = 0; i < 5; i++) {
            add("[" + i + "]", AddOptions.none(), NOW);
        }
        List<FetchedTask> first = fetch(10, NOW);
        assertEquals(2, first.size());
        assertEquals(0, runs.fetch(task, 10, NOW, NOW + 10_000, "other", KEEP).get().size(), "another worker gets none");
        RunStore.FinishResult next = round(List.of(first.getFirst()), 10, NOW + 5);
        assertEquals(1, next.fetched().size(), "the ended run's slot goes to the next task");
        assertEquals(2, raw.zcard(keys.leases()));
    }

    @Test
    void theRateAllowsLimitStartsPerWindowAndSaysWhenMore() throws Exception {
        publish(new FlowControl(0, 3, Duration.ofSeconds(1), false, Duration.ZERO));
        for (int i = 0; i < 10; i++) {
            add("[" + i + "]", AddOptions.none(), NOW);
        }
        assertEquals(3, fetch(10, NOW).size());
        RunStore.FinishResult held = round(List.of(), 10, NOW + 500);
        assertEquals(0, held.fetched().size());
        assertEquals(NOW + 1000, held.nextDue(), "the window frees a start when the first start leaves it");
        assertTrue(held.watchDue() && held.heldBack());
        assertEquals(0, fetch(10, NOW + 999).size());
        assertEquals(3, fetch(10, NOW + 1000).size());
    }

    @Test
    void noWindowOfTheRateHoldsMoreThanTheLimitAcrossWindows() throws Exception {
        publish(new FlowControl(0, 10, Duration.ofSeconds(1), false, Duration.ZERO));
        for (int i = 0; i < 35; i++) {
            add("[" + i + "]", AddOptions.none(), NOW);
        }
        assertEquals(10, fetch(20, NOW).size());
        assertEquals(10, fetch(20, NOW + 1019).size());
        assertEquals(0, fetch(20, NOW + 2007).size(), "the second window's starts fill it until NOW + 2019");
        assertEquals(10, fetch(20, NOW + 2019).size());
    }

    @Test
    void aCallRunAfterANewerOneStillFindsTheStartsOfItsWindow() throws Exception {
        // Calls run in the order Redis gets them: one whose now is a few ms older than another's
        // may run after it. The newer one must not drop the starts the older one still counts.
        publish(new FlowControl(0, 10, Duration.ofSeconds(1), false, Duration.ZERO));
        for (int i = 0; i < 30; i++) {
            add("[" + i + "]", AddOptions.none(), NOW);
        }
        assertEquals(10, fetch(10, NOW).size());
        assertEquals(3, runs.fetch(task, 3, NOW + 1003, NOW + 11_000, "newer", KEEP).get().size());
        assertEquals(0, runs.fetch(task, 10, NOW + 998, NOW + 11_000, "older", KEEP).get().size(),
                "within the window of NOW + 998 ten starts were made already, at NOW");
    }

    @Test
    void aProcessorsHoldStopsTheKindWithoutSpendingAnAttempt() throws Exception {
        publish(FlowControl.NONE);
        add("[1]", AddOptions.none(), NOW);
        add("[2]", AddOptions.none(), NOW);
        FetchedTask run = fetch(1, NOW).getFirst();
        runs.retry(run, "429: slow down", NOW + 10, Duration.ofSeconds(30), RunStore.RetryCount.HOLDS_KIND).get();
        assertEquals(Long.toString(NOW + 30_010), raw.hget(keys.flow(), "held_until"));
        assertEquals("0", raw.hget(keys.task(run.id()), "attempt"), "the held run does not count");
        assertEquals("1", raw.hget(keys.task(run.id()), "free_runs"));
        RunStore.FinishResult held = round(List.of(), 10, NOW + 20);
        assertEquals(0, held.fetched().size(), "no task of the kind starts while it is held");
        assertEquals(NOW + 30_010, held.nextDue());
        assertEquals(2, fetch(10, NOW + 30_010).size(), "both start once the hold is over");
    }

    @Test
    void cancelFreesTheKeyAndARetryTakesItBack() {
        publish(FlowControl.NONE);
        TaskOperations operations = new TaskOperations(fixture.redis());
        AddResult first = add("[1]", AddOptions.key("k"), NOW);
        operations.cancel(task, first.id(), "test");
        assertNull(raw.get(keys.unique("k")), "a canceled task frees its key");
        operations.retry(task, first.id(), "test");
        assertEquals(Long.toString(first.id()), raw.get(keys.unique("k")), "an operator's retry takes the key again");
        assertTrue(add("[1]", AddOptions.key("k"), NOW).duplicate());
    }

    @Test
    void aRetriedOrRecoveredTaskGoesBackToItsPriorityList() throws Exception {
        publish(FlowControl.NONE);
        long high = add("[3]", AddOptions.priority(2), NOW).id();
        FetchedTask run = fetch(1, NOW).getFirst();
        assertEquals(high, run.id());
        runs.retry(run, "boom", NOW + 1, Duration.ZERO, true).get();
        assertEquals(1, raw.llen(keys.waiting(2)));
        assertEquals(0, raw.llen(keys.waiting()));
    }
}
