package dev.taskpool.cli;

import static dev.taskpool.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.cli.CliRun.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What a user sees of the command line itself: help texts, a bad option, no command at all. */
class UsageTest {
    /** A picocli placeholder made from a field's name ("--tasks=<count>"), instead of a label that says what goes there. */
    private static final Pattern PLACEHOLDER = Pattern.compile("<[A-Za-z][\\w-]*>");

    @Test
    void everyHelpNamesItsValuesConcretely() {
        List<String> found = new ArrayList<>();
        CommandLine root = TaskpoolCommand.commandLine();
        List<String> commands = new ArrayList<>(root.getSubcommands().keySet());
        commands.add(null);
        for (String command : commands) {
            Result help = command == null ? execute("--help") : execute(command, "--help");
            assertEquals(0, help.code(), command + " --help: " + help.err());
            Matcher placeholder = PLACEHOLDER.matcher(help.out());
            while (placeholder.find()) {
                found.add((command == null ? "taskpool" : command) + ": " + placeholder.group());
            }
        }
        assertEquals(List.of(), found, "options and parameters show what goes there (URL, N, DURATION), not a field's name");
    }

    @Test
    void aBadOptionIsOneLineNamingItAndWhereTheHelpIs() {
        Result unknown = execute("list", "some.kind", "--bogus");
        assertEquals(2, unknown.code());
        assertEquals("", unknown.out());
        assertEquals("taskpool: Unknown option: '--bogus' (see `taskpool list --help`)", unknown.err().strip());

        Result typo = execute("list", "some.kind", "--limt", "3");
        assertEquals(1, typo.err().strip().lines().count(), typo.err());
        assertTrue(typo.err().startsWith("taskpool: Unknown option") && typo.err().contains("'--limt'") && typo.err().contains("did you mean --limit?")
                && typo.err().strip().endsWith("(see `taskpool list --help`)"), typo.err());

        Result badValue = execute("watch", "--refresh", "soon");
        assertEquals(2, badValue.code());
        assertEquals("taskpool: Invalid value for option '--refresh': 'soon' is not a duration (expected e.g. 500ms, 10s, 2m)"
                + " (see `taskpool watch --help`)", badValue.err().strip());

        Result missing = execute("get");
        assertEquals(2, missing.code());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        assertTrue(missing.err().startsWith("taskpool: Missing required parameter") && missing.err().contains("TASK")
                && missing.err().strip().endsWith("(see `taskpool get --help`)"), missing.err());
        assertTrue(!missing.err().contains("Usage:"), "no whole usage: " + missing.err());
    }

    @Test
    void noCommandNamesEveryCommand() {
        Result none = execute();
        assertEquals(2, none.code());
        assertEquals(1, none.err().strip().lines().count(), none.err());
        for (String command : List.of("worker", "run", "get", "stats", "list", "watch", "retry", "cancel", "pause", "resume",
                "run-now", "delete", "demo", "dashboard")) {
            assertTrue(none.err().contains(command), command + " named in: " + none.err());
        }
        assertTrue(none.err().strip().endsWith("(see `taskpool --help`)"), none.err());
    }

    @Test
    void aControlCharacterTypedInAnOptionIsShownEscapedInTheError() {
        Result result = execute("list", "k", "--status", "\u001b]0;owned\u0007");
        assertEquals(2, result.code());
        assertTrue(!result.err().contains("\u001b") && !result.err().contains("\u0007"), result.err());
        assertTrue(result.err().contains("'\\e]0;owned\\x07' is not a status"), result.err());
    }

    @Test
    void byIsCappedAndRefusesControlCharacters() {
        Result tooLong = execute("pause", "k", "--by", "x".repeat(201), "--redis", "redis://127.0.0.1:1");
        assertEquals(2, tooLong.code(), tooLong.err());
        assertEquals("taskpool: Invalid value for option '--by': it is 201 characters long; at most 200 are allowed"
                + " (env TASKPOOL_OPERATOR too) (see `taskpool pause --help`)", tooLong.err().strip());

        Result escape = execute("cancel", "k", "1", "--by", "eve\u001b[2J", "--redis", "redis://127.0.0.1:1");
        assertEquals(2, escape.code(), escape.err());
        assertEquals("taskpool: Invalid value for option '--by': 'eve\\e[2J' holds control characters (shown escaped);"
                + " a name may not (see `taskpool cancel --help`)", escape.err().strip());

        // 200 characters, Chinese included, are fine: the command goes on (and fails only for the Redis that is not there)
        Result fine = execute("resume", "k", "--by", "运维".repeat(100), "--redis", "redis://127.0.0.1:1");
        assertEquals(1, fine.code(), fine.err());
        assertTrue(fine.err().contains("cannot connect to Redis"), fine.err());
    }

    @Test
    void workerHelpShowsTheDefaultsOfWorkerSettings() {
        Result help = execute("worker", "--help");
        assertEquals(0, help.code(), help.err());
        String text = help.out().replaceAll("\\s+", " ");
        for (String shown : List.of("without a heartbeat (default 10s)", "how often leases are extended (default 3s)",
                "jittered ±20% (default 4s)", "is abandoned (default 5s)", "TASKPOOL_SHUTDOWN_GRACE; default 10s)")) {
            assertTrue(text.contains(shown), shown + " in: " + text);
        }
    }

    @Test
    void durationsInErrorsReadAsTheyAreWritten() {
        Result worker = execute("worker", "--lease", "1s", "--heartbeat", "1.5s", "--redis", "redis://127.0.0.1:1");
        assertEquals(1, worker.code(), worker.err());
        assertEquals("taskpool: --heartbeat 1.5s must be shorter than --lease 1s", worker.err().strip());

        // Refused before Redis is touched (the Redis here is not there), in the options' own names and
        // in the units typed; a default is written as --help shows it.
        Result equal = execute("worker", "--lease", "12s", "--heartbeat", "12000ms", "--redis", "redis://127.0.0.1:1");
        assertEquals(1, equal.code(), equal.err());
        assertEquals("taskpool: --heartbeat 12000ms must be shorter than --lease 12s", equal.err().strip());
        Result againstDefault = execute("worker", "--heartbeat", "0.5m", "--redis", "redis://127.0.0.1:1");
        assertEquals(1, againstDefault.code(), againstDefault.err());
        assertEquals("taskpool: --heartbeat 0.5m must be shorter than --lease 10s", againstDefault.err().strip());
        Result noBeat = execute("worker", "--heartbeat", "0s", "--redis", "redis://127.0.0.1:1");
        assertEquals(1, noBeat.code(), noBeat.err());
        assertEquals("taskpool: --heartbeat must be longer than 0, got 0s", noBeat.err().strip());
        Result negativeGrace = execute("worker", "--grace", "-1s", "--redis", "redis://127.0.0.1:1");
        assertEquals(1, negativeGrace.code(), negativeGrace.err());
        assertEquals("taskpool: --grace must not be negative, got -1s", negativeGrace.err().strip());

        Result watch = execute("watch", "--refresh", "0s", "--redis", "redis://127.0.0.1:1");
        assertEquals(1, watch.code(), watch.err());
        assertEquals("taskpool: --refresh must be longer than 0, got 0ms", watch.err().strip());
    }
}
