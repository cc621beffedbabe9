package dev.taskpool.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.NewTask;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Delayed tasks reaching the queue: by a fetch (finish) or the recoverer's call, in bounded steps, earliest first. */
class DuePromotionTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Duration KEEP = Duration.ofMinutes(5);
    private static final long DUE = NOW + 3_600_000;

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("due");

    private AddStore adds;
    private RunStore runs;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;

    @BeforeEach
    void publish() {
        adds = new AddStore(fixture.redis());
        runs = new RunStore(fixture.redis());
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        adds.publish(RunStoreTest.definition(task, 100_000, 1));
    }

    private RunStore.FinishResult fetch(int max, long now) {
        return runs.finish(task, "w", List.of(), max, now, now + 10_000, KEEP).join();
    }

    @Test
    void aFetchTakesNoTaskBeforeItsDueTimeAndTellsWhenTheNextIsDue() {
        long later = adds.addWith(task, null, "[\"later\"]", AddOptions.at(Instant.ofEpochMilli(NOW + 2000)), NOW).id();
        long sooner = adds.addWith(task, null, "[\"sooner\"]", AddOptions.at(Instant.ofEpochMilli(NOW + 1000)), NOW).id();
        RunStore.FinishResult early = fetch(5, NOW + 999);
        assertEquals(List.of(), early.fetched());
        assertEquals(NOW + 1000, early.nextDue());
        RunStore.FinishResult first = fetch(5, NOW + 1000);
        assertEquals(List.of(sooner), first.fetched().stream().map(FetchedTask::id).toList(), "only the due one");
        assertEquals(NOW + 2000, first.nextDue());
        RunStore.FinishResult second = fetch(5, NOW + 5000);
        assertEquals(List.of(later), second.fetched().stream().map(FetchedTask::id).toList());
        assertEquals(RunStore.FinishResult.NONE_DELAYED, second.nextDue());
        assertEquals(RunStore.FinishResult.NOT_LOOKED, runs.finish(task, "w", List.of(), 0, NOW, NOW, KEEP).join().nextDue());
    }

    @Test
    void dueTasksStartEarliestFirstBehindTheReadyOnes() {
        long late = adds.addWith(task, null, "[1]", AddOptions.at(Instant.ofEpochMilli(NOW + 300)), NOW).id();
        long early = adds.addWith(task, null, "[2]", AddOptions.at(Instant.ofEpochMilli(NOW + 100)), NOW).id();
        long ready = adds.add(task, null, "[3]", NOW).id();
        List<Long> order = fetch(10, NOW + 1000).fetched().stream().map(FetchedTask::id).toList();
        assertEquals(List.of(ready, early, late), order);
    }

    @Test
    void fiveThousandFallingDueTogetherMoveAtMostAThousandPerCallAndAllArrive() {
        List<NewTask> tasks = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            tasks.add(new NewTask(null, "[" + i + "]"));
        }
        adds.addAll(task, tasks, AddOptions.at(Instant.ofEpochMilli(DUE)), NOW);   // (later chunks' now runs on: a due time far off)
        RunStore.FinishResult first = fetch(1, DUE);
        assertEquals(1, first.fetched().size());
        assertEquals(4000, raw.zcard(keys.delayed()), "one step of 1,000 moved");
        assertEquals(999, raw.llen(keys.waiting()));
        assertTrue(first.nextDue() > 0 && first.nextDue() <= DUE, "it says more are due: " + first.nextDue());
        assertEquals(List.of("1"), raw.lrange(keys.wake(), 0, -1), "and passes the wake token on");
        // The recoverer's call: never more than a step, whatever it asks.
        RunStore.DuePromotion promotion = runs.promoteDue(task, DUE, 5000).join();
        assertEquals(1000, promotion.moved());
        int calls = 1;
        while (promotion.nextDue() != 0) {
            promotion = runs.promoteDue(task, DUE, 5000).join();
            assertTrue(promotion.moved() <= 1000);
            calls++;
        }
        assertEquals(4, calls);
        assertEquals(0, raw.zcard(keys.delayed()));
        assertEquals(4999, raw.llen(keys.waiting()));
        assertEquals(new RunStore.DuePromotion(0, 0), runs.promoteDue(task, DUE, 5000).join());
    }

    @Test
    void theRecoverersCallWakesAWorkerOnlyWhenTheQueueWasEmpty() {
        adds.addWith(task, null, "[1]", AddOptions.delay(Duration.ofSeconds(1)), NOW);
        raw.del(keys.wake());
        assertEquals(new RunStore.DuePromotion(0, NOW + 1000), runs.promoteDue(task, NOW + 999, 100).join());
        assertEquals(new RunStore.DuePromotion(1, 0), runs.promoteDue(task, NOW + 1000, 100).join());
        assertEquals(1, raw.llen(keys.wake()));
    }

    @Test
    void aDelayedSetOfTheWrongTypeIsAnErrorNamingItAndNothingChanges() {
        adds.add(task, null, "[1]", NOW);
        raw.set(keys.delayed(), "x");
        Exception error = assertThrows(Exception.class, () -> fetch(1, NOW));
        assertTrue(error.getMessage().contains("WRONGTYPE " + keys.delayed() + " holds a string, expected a sorted set"),
                error.getMessage());
        assertEquals(1, raw.llen(keys.waiting()), "nothing was taken");
    }

    @Test
    void oneIdleWorkerWatchesEachDueTimeNotEvery() {
        adds.addWith(task, null, "[1]", AddOptions.at(Instant.ofEpochMilli(NOW + 5000)), NOW);
        RunStore.FinishResult first = runs.finish(task, "a", List.of(), 2, NOW, NOW + 10_000, KEEP).join();
        RunStore.FinishResult second = runs.finish(task, "b", List.of(), 2, NOW + 1, NOW + 10_000, KEEP).join();
        assertTrue(first.watchDue(), "the first idle worker watches NOW + 5000");
        assertEquals(NOW + 5000, second.nextDue());
        assertTrue(!second.watchDue(), "the second relies on it");
        assertEquals(Long.toString(NOW + 5000), raw.get(keys.dueWatch()));
        assertTrue(raw.pttl(keys.dueWatch()) > 5000, "it lapses a little after the due time, for a watcher that died");
        // A new earliest due time is watched anew (its add woke one idle worker to learn it).
        adds.addWith(task, null, "[2]", AddOptions.at(Instant.ofEpochMilli(NOW + 2000)), NOW + 2);
        assertTrue(runs.finish(task, "b", List.of(), 2, NOW + 3, NOW + 10_000, KEEP).join().watchDue());
    }
}
