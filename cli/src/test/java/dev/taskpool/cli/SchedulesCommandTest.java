package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.cli.CliRun.Result;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.schedule.ScheduleInfo;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskpool schedules} as an operator calls it, against a real Redis with no worker running:
 * a schedule put through {@link ScheduleOperations} is listed (table and --json), and stop, start
 * and trigger change its state in Redis, read back through {@link ScheduleOperations#get}.
 */
class SchedulesCommandTest {
    static final String TASK = TestRedis.uniqueTaskId("schedcli.report");
    static final String SCHEDULE = TestRedis.uniqueTaskId("schedcli-nightly");

    @TempDir
    static Path dir;
    static Harness harness;
    static ScheduleOperations schedules;

    @BeforeAll
    static void putASchedule() {
        // a runtime publishes the kind the schedule adds to; no worker, so nothing fires
        harness = Harness.open(TestApp.in(dir).task(TASK, 1, 0, 0, 10, 100, "scripts.report.Make", "")
                .script("report", "function Make(what) { return what; }").dir());
        schedules = new ScheduleOperations(harness.redis);
        schedules.put(ScheduleSpec.builder(SCHEDULE).name("nightly report").cron("0 3 * * *").timezone("Europe/Berlin")
                .task(TASK).argsJson("[\"pdf\"]").build(), "test");
    }

    @AfterAll
    static void removeIt() {
        if (schedules != null) {
            schedules.remove(SCHEDULE);
        }
        if (harness != null) {
            harness.close();
        }
    }

    private static Result ok(String... args) {
        Result result = execute(args);
        assertEquals(0, result.code(), String.join(" ", args) + " failed: " + result.err());
        return result;
    }

    private static ScheduleInfo state() {
        return schedules.get(SCHEDULE).orElseThrow(() -> new AssertionError("schedule " + SCHEDULE + " is gone"));
    }

    private static String row(Result table) {
        return table.out().lines().filter(line -> line.startsWith(SCHEDULE + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + SCHEDULE + " in:\n" + table.out()));
    }

    @Test
    void theTableShowsTheScheduleWithItsZoneTargetAndNextFireAndJsonHasEveryField() {
        Result table = ok("schedules", "--redis", TestRedis.uri());
        assertTrue(table.out().lines().anyMatch(line -> line.startsWith("ID ") && line.contains("NEXT FIRE")
                && line.contains("LAST TASK") && line.contains("STOPPED")), "a header row:\n" + table.out());
        String row = row(table);
        assertTrue(row.contains("nightly report") && row.contains("0 3 * * * (Europe/Berlin)") && row.contains("task " + TASK),
                "name, cron with its zone, what it runs: " + row);
        assertTrue(row.matches(".*\\d{4}-\\d\\d-\\d\\d 03:00:00\\+0[12]:00 \\(in [^)]+\\).*"),
                "the next fire at 03:00 Berlin time, and how far away: " + row);
        assertFalse(table.out().contains("\u001b["), "no colours when stdout is no terminal");

        JsonNode json = Json.read(ok("schedules", "--json", "--redis", TestRedis.uri()).out(), "schedules --json");
        JsonNode mine = null;
        for (JsonNode schedule : json.get("schedules")) {
            if (schedule.get("id").asText().equals(SCHEDULE)) {
                mine = schedule;
            }
        }
        assertTrue(mine != null, "listed in --json: " + json);
        assertEquals("0 3 * * *", mine.get("cron").asText());
        assertEquals("Europe/Berlin", mine.get("timezone").asText());
        assertEquals(TASK, mine.get("task").asText());
        assertEquals("pdf", mine.get("args").get(0).asText(), "args as JSON, not as the text stored: " + mine);
        assertEquals(state().nextFireAt(), mine.get("nextFireAt").asLong());
        assertFalse(mine.get("stopped").asBoolean());
    }

    @Test
    void stopStartAndTriggerChangeTheStateInRedis() {
        Result stopped = ok("schedules", "stop", SCHEDULE, "--by", "ops-alice", "--redis", TestRedis.uri());
        assertEquals("stopped schedule " + SCHEDULE + ": no worker fires it until `taskpool schedules start " + SCHEDULE + "`",
                stopped.out());
        assertTrue(state().stopped(), "stopped in Redis");
        String row = row(ok("schedules", "--redis", TestRedis.uri()));
        assertTrue(List.of(row.split("\\s{2,}")).contains("yes"), "the row says stopped: " + row);

        Result started = ok("schedules", "start", SCHEDULE, "--json", "--redis", TestRedis.uri());
        JsonNode answer = Json.read(started.out(), "schedules start --json");
        assertEquals("start", answer.get("action").asText());
        assertEquals(SCHEDULE, answer.get("schedule").asText());
        assertFalse(answer.get("state").get("stopped").asBoolean(), answer.toString());
        ScheduleInfo running = state();
        assertFalse(running.stopped(), "started in Redis");
        assertTrue(running.nextFireAt() > System.currentTimeMillis() - 60_000, "start set a next fire time: " + running);

        Result triggered = ok("schedules", "trigger", SCHEDULE, "--by", "ops-bob", "--redis", TestRedis.uri());
        assertTrue(triggered.out().startsWith("triggered schedule " + SCHEDULE + ":"), triggered.out());
        // no worker runs: the trigger waits in the schedule's state for one (the firing is the ticker's, tested there)
        assertEquals("ops-bob", harness.redis.sync().hget(Keys.of(TASK).schedule(SCHEDULE), "trigger_by"),
                "the trigger is recorded, with who asked");
    }

    @Test
    void aRegistryEntryThatCannotBeReadIsARowSayingWhyAndTheOthersAreListed() {
        String broken = TestRedis.uniqueTaskId("schedcli-broken");
        harness.redis.sync().hset(Keys.SCHEDULE_REGISTRY, broken, "not json");
        try {
            Result table = execute("schedules", "--redis", TestRedis.uri());
            assertEquals(3, table.code(), "shown, but not all of it could be read: " + table.err());
            assertEquals("taskpool: 1 schedule(s) could not be read (their LAST ERROR says why); the rest is shown",
                    table.err().strip());
            String row = table.out().lines().filter(line -> line.startsWith(broken + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for " + broken + " in:\n" + table.out()));
            assertTrue(row.contains("unreadable definition in " + Keys.SCHEDULE_REGISTRY), "the row says why: " + row);
            assertFalse(row.contains("null"), "no field shows as null: " + row);
            row(table);   // the good one is listed as well
            Result json = execute("schedules", "--json", "--redis", TestRedis.uri());
            assertEquals(3, json.code(), json.err());
            boolean markedUnreadable = false;
            for (JsonNode schedule : Json.read(json.out(), "schedules --json").get("schedules")) {
                if (schedule.get("id").asText().equals(broken)) {
                    markedUnreadable = !schedule.get("readable").asBoolean();
                }
            }
            assertTrue(markedUnreadable, "--json marks it: " + json.out());
        } finally {
            harness.redis.sync().hdel(Keys.SCHEDULE_REGISTRY, broken);
        }
    }

    @Test
    void anUnknownScheduleIsOneLineNamingItAndExitCodeOne() {
        for (String action : List.of("stop", "start", "trigger")) {
            Result unknown = execute("schedules", action, "no-such-" + SCHEDULE, "--redis", TestRedis.uri());
            assertEquals(1, unknown.code(), action + ": " + unknown.err());
            assertEquals("", unknown.out(), "nothing on stdout");
            assertEquals(1, unknown.err().strip().lines().count(), unknown.err());
            assertTrue(unknown.err().startsWith("taskpool: ") && unknown.err().contains("'no-such-" + SCHEDULE + "'"), unknown.err());
        }
        Result missing = execute("schedules", "stop", "--redis", TestRedis.uri());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("ID") && missing.err().strip().endsWith("(see `taskpool schedules stop --help`)"),
                missing.err());
    }
}
