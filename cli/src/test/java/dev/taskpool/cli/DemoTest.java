package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.support.TestRedis;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `taskpool demo` end to end (on the test Redis instead of a throwaway one). */
class DemoTest {
    @Test
    void theDemoRunsEveryTaskToTheEndAndSummarizes() {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = TaskpoolCommand.commandLine().execute("demo", "--tasks", "8", "--redis", TestRedis.uri(),
                    "--app", "../examples/demo");
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, printed);
        assertTrue(printed.contains("Summary: 8 tasks"), printed);
        assertTrue(printed.matches("(?s).*image\\.resize SUCCESS +4\n.*"), printed);
        // mail.send fails about one run in three and has 4 runs: almost always SUCCESS, rarely FAILURE.
        // Whatever the split, the summary accounts for all 8 tasks, each one finished.
        Matcher line = Pattern.compile("(?m)^  ([a-z][a-z.]*) ([A-Z]+) +(\\d+)$").matcher(printed);
        int counted = 0;
        while (line.find()) {
            assertTrue(line.group(2).equals("SUCCESS") || line.group(2).equals("FAILURE"), "finished: " + line.group());
            counted += Integer.parseInt(line.group(3));
        }
        assertEquals(8, counted, "the summary's counts add up to the 8 tasks:\n" + printed);
        assertTrue(!printed.contains("stopped waiting"), printed);
        assertTrue(printed.contains("\"status\" : \"SUCCESS\""), printed);
    }
}
