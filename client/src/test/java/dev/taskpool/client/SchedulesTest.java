package dev.taskpool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.schedule.ScheduleInfo;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.core.schedule.UnknownScheduleException;
import dev.taskpool.core.testing.RedisFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A Java application's schedules through the client: create, change, read, stop, start, trigger, remove. */
class SchedulesTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture("clientsched");

    @Test
    void aScheduleRoundTrip() {
        String task = fixture.task();
        String id = task + ".nightly";
        try (TaskpoolClient client = TaskpoolClient.connect(fixture.uri())) {
            Schedules schedules = client.schedules();
            schedules.put(ScheduleSpec.builder(id).name("Nightly report").cron("0 3 * * *").timezone("Europe/Paris")
                    .task(task).args("daily", 7).missed("skip").overlap(false).build());
            ScheduleInfo created = schedules.get(id).orElseThrow();
            assertEquals("Nightly report", created.name());
            assertEquals("0 3 * * *", created.cron());
            assertEquals("Europe/Paris", created.timezone());
            assertEquals(task, created.task());
            assertEquals("[\"daily\",7]", created.args());
            assertEquals("skip", created.missed());
            assertFalse(created.overlap());
            assertEquals("client", created.source());
            assertTrue(created.nextFireAt() > System.currentTimeMillis());
            assertTrue(schedules.list().stream().anyMatch(s -> s.id().equals(id)));

            schedules.put(ScheduleSpec.builder(id).cron("*/10 * * * * *").task(task).build());
            ScheduleInfo changed = schedules.get(id).orElseThrow();
            assertEquals("*/10 * * * * *", changed.cron());
            assertTrue(changed.nextFireAt() - System.currentTimeMillis() <= 10_000, "recomputed: " + changed);

            schedules.stop(id);
            assertTrue(schedules.get(id).orElseThrow().stopped());
            schedules.start(id);
            assertFalse(schedules.get(id).orElseThrow().stopped());
            schedules.trigger(id);

            assertTrue(schedules.remove(id));
            assertTrue(schedules.get(id).isEmpty());
            assertThrows(UnknownScheduleException.class, () -> schedules.stop(id));
            var bad = assertThrows(DefinitionException.class,
                    () -> ScheduleSpec.builder(id).cron("0 3 * * *").process("scripts.x.Run").overlap(false).build());
            assertTrue(bad.getMessage().contains("field \"overlap\": false needs a task schedule"), bad.getMessage());
            var badCron = assertThrows(DefinitionException.class,
                    () -> ScheduleSpec.builder(id).cron("61 * * * *").timezone("Mars/Olympus").task(task).build());
            assertTrue(badCron.getMessage().contains("field \"schedule\""), badCron.getMessage());
            assertTrue(badCron.getMessage().contains("field \"timezone\""), badCron.getMessage());
        }
    }
}
