package dev.taskpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.bench.BenchRun.Result;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The command line bin/taskpool runs for {@code bench}: the benchmark added to every other command. */
class BenchUsageTest {
    @Test
    void benchHelpNamesItsValuesConcretely() {
        Result help = BenchRun.execute("bench", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: taskpool bench"), help.out());
        assertFalse(Pattern.compile("<[A-Za-z][\\w-]*>").matcher(help.out()).find(), "a field-name placeholder in: " + help.out());
        Result viaHelp = BenchRun.execute("help", "bench");
        assertEquals(0, viaHelp.code(), viaHelp.err());
        assertTrue(viaHelp.out().startsWith("Usage: taskpool bench"), viaHelp.out());
    }

    @Test
    void noCommandNamesTheBenchmarkWithEveryOtherCommand() {
        Result none = BenchRun.execute();
        assertEquals(2, none.code());
        for (String command : List.of("worker", "run", "get", "demo", "dashboard", "bench")) {
            assertTrue(none.err().contains(command), command + " named in: " + none.err());
        }
        Result bad = BenchRun.execute("bench", "--tasks", "many");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().strip().endsWith("(see `taskpool bench --help`)"), bad.err());
    }
}
