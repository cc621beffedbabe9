package dev.taskpool.core.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.testing.RedisFixture;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Firing schedules against a real Redis, time passed in: exactly one task per slot however many
 * firers try, missed slots after downtime by policy, stop/start/trigger, overlap, a full queue,
 * $ENV args, timing changes, process schedules.
 */
class ScheduleFirerTest {
    /** A whole minute, so that the slots of "every 30 s" and "every second" fall on round times. */
    private static final long T0 = Instant.parse("2026-01-10T00:00:00Z").toEpochMilli();

    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("sched");

    private RedisConnector redis;
    private RedisClusterCommands<String, String> raw;
    private String task;
    private Keys keys;
    private final List<String> schedules = new ArrayList<>();
    private final Map<String, String> environment = new HashMap<>();

    @BeforeEach
    void publish() {
        redis = fixture.redis();
        raw = fixture.raw();
        task = fixture.task();
        keys = fixture.keys();
        publishTask(1000);
    }

    @AfterEach
    void removeSchedules() {
        ScheduleOperations operations = new ScheduleOperations(redis);
        schedules.forEach(operations::remove);
    }

    private void publishTask(int size) {
        new AddStore(redis).publish(new TaskDefinition(task, "tasks/" + task + ".yao", "test", 1, 0, Duration.ZERO,
                Duration.ofSeconds(5), size, "scripts.x.Run", TaskEvents.NONE, Duration.ofSeconds(600)));
    }

    private ScheduleOperations operationsAt(long now) {
        return new ScheduleOperations(redis, Clock.fixed(Instant.ofEpochMilli(now), ZoneId.of("UTC")));
    }

    private ScheduleFirer firer() {
        return new ScheduleFirer(redis, environment::get);
    }

    /** Creates the schedule at {@code now}: its next fire time is the first slot after now. */
    private ScheduleSpec put(ScheduleSpec.Builder builder, long now) {
        ScheduleSpec spec = builder.build();
        schedules.add(spec.id());
        operationsAt(now).put(spec, "test");
        return spec;
    }

    private ScheduleSpec.Builder every(String cron) {
        return ScheduleSpec.builder(task + ".every").cron(cron).task(task).args("x");
    }

    /** The fire_at of every task of the kind, in id order. */
    private List<Long> fireTimes() {
        List<Long> times = new ArrayList<>();
        long last = Long.parseLong(raw.get(keys.sequence()) == null ? "0" : raw.get(keys.sequence()));
        for (long id = 1; id <= last; id++) {
            String at = raw.hget(keys.task(id), "fire_at");
            if (at != null) {
                times.add(Long.parseLong(at));
            }
        }
        return times;
    }

    private ScheduleInfo info(String id) {
        return new ScheduleOperations(redis).get(id).orElseThrow();
    }

    @Test
    void manyFirersMakeExactlyOneTaskPerSlot() throws Exception {
        put(every("*/1 * * * * *"), T0);
        List<ScheduleFirer> firers = List.of(firer(), firer(), firer(), firer());
        ExecutorService threads = Executors.newFixedThreadPool(firers.size());
        try {
            for (long second = 1; second <= 15; second++) {
                long now = T0 + second * 1000 + 100;
                CountDownLatch go = new CountDownLatch(1);
                List<Future<ScheduleFirer.Round>> rounds = new ArrayList<>();
                for (ScheduleFirer firer : firers) {
                    rounds.add(threads.submit(() -> {
                        go.await();
                        return firer.fire(now);
                    }));
                }
                go.countDown();
                int added = 0;
                for (Future<ScheduleFirer.Round> round : rounds) {
                    added += round.get().tasksAdded();
                }
                assertEquals(1, added, "second " + second);
            }
        } finally {
            threads.shutdownNow();
        }
        List<Long> times = fireTimes();
        assertEquals(15, times.size(), times.toString());
        assertEquals(15, new HashSet<>(times).size(), "one task per fire time: " + times);
        for (int i = 0; i < times.size(); i++) {
            assertEquals(T0 + (i + 1) * 1000L, times.get(i));
        }
        ScheduleInfo info = info(task + ".every");
        assertEquals(T0 + 15_000, info.lastFireAt());
        assertEquals(15, info.lastTaskId());
        assertEquals(T0 + 16_000, info.nextFireAt());
        Map<String, String> hash = raw.hgetall(keys.task(15));
        assertEquals("WAITING", hash.get("status"));
        assertEquals("[\"x\"]", hash.get("args"));
        assertEquals(task + ".every", hash.get("schedule"));
        assertEquals("15", raw.hget(keys.stats(), "added"));
        assertEquals(15, raw.llen(keys.waiting()));
    }

    @Test
    void afterDowntimeOnceMakesOneTaskSkipNoneAndAllEachCapped() {
        // every 30 s; the workers were away for ten minutes and ten seconds
        long back = T0 + 610_000;
        put(every("*/30 * * * * *").missed("once"), T0);
        firer().fire(back);
        assertEquals(List.of(T0 + 600_000), fireTimes(), "once: one catch-up task, for the most recent missed slot");
        assertEquals(T0 + 630_000, info(task + ".every").nextFireAt());

        raw.del(keys.schedule(task + ".every"));
        raw.del(keys.waiting());
        put(every("*/30 * * * * *").missed("skip"), T0);
        assertEquals(T0 + 30_000, info(task + ".every").nextFireAt());
        firer().fire(back);
        assertEquals(1, fireTimes().size(), "skip: no task for slots that fell due more than 5 s ago");
        assertEquals(T0 + 630_000, info(task + ".every").nextFireAt());
        firer().fire(T0 + 632_000);
        assertEquals(List.of(T0 + 600_000, T0 + 630_000), fireTimes(), "skip: a slot just due fires");

        raw.del(keys.schedule(task + ".every"));
        put(every("*/30 * * * * *").missed("all"), T0);
        firer().fire(back);
        assertEquals(2 + 20, fireTimes().size(), "all: one task per missed slot");

        raw.del(keys.schedule(task + ".every"));
        put(every("*/1 * * * * *").missed("all"), T0);
        firer().fire(T0 + 300_500);
        List<Long> times = fireTimes().subList(22, fireTimes().size());
        assertEquals(ScheduleFirer.MISSED_CAP, times.size(), "all: capped");
        assertEquals(T0 + 201_000, times.getFirst(), "all: the most recent ones");
        assertEquals(T0 + 300_000, times.getLast());
        assertEquals(T0 + 301_000, info(task + ".every").nextFireAt());
    }

    @Test
    void stopHoldsForEveryFirerAndStartResumesAfterNow() {
        String id = put(every("*/1 * * * * *"), T0).id();
        firer().fire(T0 + 1_100);
        assertEquals(1, fireTimes().size());
        operationsAt(T0 + 1_200).stop(id, "alice");
        assertTrue(info(id).stopped());
        assertEquals(0, info(id).nextFireAt());
        for (ScheduleFirer firer : List.of(firer(), firer(), firer())) {
            firer.fire(T0 + 5_000);
        }
        assertEquals(1, fireTimes().size(), "no firing while stopped");
        operationsAt(T0 + 9_500).start(id, "bob");
        assertFalse(info(id).stopped());
        assertEquals(T0 + 10_000, info(id).nextFireAt(), "resumes from the first slot after now");
        firer().fire(T0 + 10_100);
        assertEquals(List.of(T0 + 1_000, T0 + 10_000), fireTimes(), "the slots missed while stopped are not run");
    }

    @Test
    void aStartFromAClockBehindTheLastFiringNeverFiresThatSlotAgain() {
        String id = put(every("0 * * * * *"), T0).id();
        firer().fire(T0 + 60_050);
        assertEquals(List.of(T0 + 60_000), fireTimes());
        operationsAt(T0 + 60_100).stop(id, "alice");
        operationsAt(T0 + 30_000).start(id, "bob");   // a machine whose clock is 30 s behind
        assertEquals(T0 + 120_000, info(id).nextFireAt(), "the next slot after the last one fired, not after the clock");
        firer().fire(T0 + 60_200);
        assertEquals(List.of(T0 + 60_000), fireTimes(), "slot " + (T0 + 60_000) + " made one task");
    }

    @Test
    void aTriggerFiresOnceAlsoWhileStopped() {
        String id = put(every("0 0 1 1 *"), T0).id();
        operationsAt(T0 + 5_000).stop(id, "alice");
        operationsAt(T0 + 6_000).trigger(id, "alice");
        operationsAt(T0 + 6_500).trigger(id, "alice");   // one pending at a time
        firer().fire(T0 + 7_000);
        firer().fire(T0 + 7_000);
        assertEquals(List.of(T0 + 6_000), fireTimes());
        assertTrue(info(id).stopped());
        assertEquals(T0 + 6_000, info(id).lastFireAt());
    }

    @Test
    void withoutOverlapAFiringIsSkippedWhileTheLastTaskWaits() {
        String id = put(every("*/1 * * * * *").overlap(false), T0).id();
        firer().fire(T0 + 1_000);
        firer().fire(T0 + 2_000);
        assertEquals(List.of(T0 + 1_000), fireTimes());
        ScheduleInfo skipped = info(id);
        assertTrue(skipped.lastError().startsWith("overlap: task 1 of the previous firing is still WAITING"), skipped.lastError());
        assertEquals(T0 + 3_000, skipped.nextFireAt(), "moves on");
        raw.hset(keys.task(1), "status", "SUCCESS");
        firer().fire(T0 + 3_000);
        assertEquals(List.of(T0 + 1_000, T0 + 3_000), fireTimes());
        assertNull(info(id).lastError());
    }

    @Test
    void aFullQueueRecordsTheRefusalAndMovesOn() {
        publishTask(1);
        String id = put(every("*/1 * * * * *"), T0).id();
        firer().fire(T0 + 1_000);
        firer().fire(T0 + 2_000);
        assertEquals(List.of(T0 + 1_000), fireTimes());
        ScheduleInfo info = info(id);
        assertEquals("the queue of task " + task + " is full (size 1, 1 waiting)", info.lastError());
        assertEquals(T0 + 2_000, info.lastFireAt());
        assertEquals(T0 + 3_000, info.nextFireAt());
    }

    @Test
    void envReferencesAreResolvedAtFiring() {
        String id = put(every("*/1 * * * * *").argsJson("[\"$ENV.SCHED_TOKEN\", {\"k\": \"$ENV.SCHED_TOKEN\"}, 3]"), T0).id();
        firer().fire(T0 + 1_000);
        assertEquals(List.of(), fireTimes());
        assertEquals("args: environment variable SCHED_TOKEN is not set on the firing worker; the firing made no task",
                info(id).lastError());
        assertEquals("[\"$ENV.SCHED_TOKEN\",{\"k\":\"$ENV.SCHED_TOKEN\"},3]", info(id).args(), "stored unresolved");
        environment.put("SCHED_TOKEN", "s3cret");
        firer().fire(T0 + 2_000);
        assertEquals("[\"s3cret\",{\"k\":\"s3cret\"},3]", raw.hget(keys.task(1), "args"));
    }

    @Test
    void aChangedCronRecomputesTheNextFire() {
        String id = put(every("*/1 * * * * *"), T0).id();
        assertEquals(T0 + 1_000, info(id).nextFireAt());
        put(every("0 */5 * * * *"), T0 + 10_000);
        assertEquals(T0 + 300_000, info(id).nextFireAt());
        put(every("0 */5 * * * *").name("renamed"), T0 + 20_000);
        assertEquals(T0 + 300_000, info(id).nextFireAt(), "the same timing keeps its next fire");
        put(every("0 */5 * * * *").timezone("Asia/Kolkata"), T0 + 20_000);   // UTC+5:30: minutes 0, 5, ... shift by 30
        assertEquals(T0 + 300_000, info(id).nextFireAt());
        assertEquals("Asia/Kolkata", info(id).timezone());
    }

    @Test
    void aProcessFiringIsWonByOneFirer() {
        String id = task + ".report";
        ScheduleSpec spec = ScheduleSpec.builder(id).cron("*/1 * * * * *").process("scripts.report.Run").args(1, "two").build();
        schedules.add(id);
        operationsAt(T0).put(spec, "test");
        List<ScheduleFirer.ProcessFiring> won = new ArrayList<>();
        for (ScheduleFirer firer : List.of(firer(), firer(), firer())) {
            won.addAll(firer.fire(T0 + 1_000).processes());
        }
        assertEquals(List.of(new ScheduleFirer.ProcessFiring(id, "scripts.report.Run", List.of(1L, "two"), T0 + 1_000)), won);
        assertEquals(T0 + 1_000, info(id).lastFireAt());
        assertEquals(0, info(id).lastTaskId());
        firer().recordProcessResult(id, "boom");
        assertEquals("boom", info(id).lastError());
        raw.del(Keys.processSchedule(id));
    }

    @Test
    void listGetRemoveAndUnknownIds() {
        String id = put(every("*/1 * * * * *").name("Every second"), T0).id();
        ScheduleOperations operations = new ScheduleOperations(redis);
        ScheduleInfo info = operations.list().stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
        assertEquals(new ScheduleInfo(id, "Every second", "*/1 * * * * *", "UTC", task, null, "[\"x\"]", "once", true, false,
                T0 + 1_000, 0, 0, null, "client", true), info);
        assertTrue(operations.remove(id));
        assertFalse(operations.remove(id));
        assertTrue(operations.get(id).isEmpty());
        assertEquals(0, raw.exists(keys.schedule(id)));
        var unknown = assertThrows(UnknownScheduleException.class, () -> operations.stop("no.such", "me"));
        assertTrue(unknown.getMessage().startsWith("no schedule 'no.such' in Redis (taskpool:schedules)"), unknown.getMessage());
        assertThrows(UnknownScheduleException.class, () -> operations.trigger("no.such", "me"));
        assertThrows(UnknownScheduleException.class, () -> operations.start("no.such", "me"));
    }

    @Test
    void anEntryWrittenByHandIsListedWithItsProblemAndHoldsUpNoOtherSchedule() {
        String broken = task + ".broken";
        schedules.add(broken);
        raw.hset(Keys.SCHEDULE_REGISTRY, broken, "not json");
        put(every("*/1 * * * * *"), T0);
        ScheduleFirer.Round round = firer().fire(T0 + 1_000);
        assertEquals(1, round.tasksAdded(), "the other schedule fired");
        assertEquals(1, round.failures().size());
        assertTrue(round.failures().getFirst().getMessage().startsWith("schedule '" + broken + "' is not fired: unreadable"),
                round.failures().getFirst().getMessage());
        ScheduleInfo listed = info(broken);
        assertTrue(listed.lastError().startsWith("unreadable definition in taskpool:schedules: "), listed.lastError());
        assertFalse(listed.readable());
        raw.set(keys.schedule(task + ".every"), "a string");
        ScheduleFirer.Round failing = firer().fire(T0 + 2_000);
        assertEquals(2, failing.failures().size());
        assertTrue(failing.failures().get(1).getMessage().contains("WRONGTYPE"), failing.failures().get(1).getMessage());
        assertTrue(info(task + ".every").lastError().contains("WRONGTYPE"), "listed with why");
        assertFalse(info(task + ".every").readable(), "and marked unreadable");
        raw.del(keys.schedule(task + ".every"));
    }

    @Test
    void aSpecNamesEveryBadField() {
        var error = assertThrows(DefinitionException.class, () -> ScheduleSpec.builder("nightly")
                .cron("* * *").timezone("Nowhere/Town").task("a").process("b.c").missed("twice").build());
        assertEquals(List.of(
                "schedule \"nightly\": field \"schedule\": \"* * *\" has 3 fields; expected 5 (minute hour day month weekday) or 6"
                        + " with a leading seconds field",
                "schedule \"nightly\": field \"timezone\": unknown time zone \"Nowhere/Town\"; expected an IANA id such as"
                        + " \"UTC\" or \"Europe/Paris\"",
                "schedule \"nightly\": fields \"task\" and \"process\": expected exactly one of them, got both (task \"a\","
                        + " process \"b.c\")",
                "schedule \"nightly\": field \"missed\": expected \"skip\", \"once\" or \"all\", got \"twice\""), error.problems());
        assertTrue(error.getMessage().startsWith("4 bad schedules:"), error.getMessage());
        Set<String> none = Set.of();
        assertEquals(none, Set.copyOf(ScheduleSpec.builder("ok").cron("0 3 * * *").task("a").build().problems("x")));
    }
}
