package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's progress block is redrawn in place: the worker's log lines used to land in it. While
 * held, they reach the display (to print above the block) and not stderr; afterwards the log is as before.
 */
class HeldLogsTest {
    private static final Logger log = LoggerFactory.getLogger(HeldLogsTest.class);

    @Test
    void heldLinesGoToTheDisplayNotStderrUntilReleased() {
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> taken;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            try (HeldLogs held = HeldLogs.hold()) {
                log.warn("task mail.send #3: FAILURE after 4 run(s): smtp \u001b[2J down");
                log.error("with a cause", new IllegalStateException("boom"));
                taken = held.take();
                assertEquals(List.of(), held.take(), "taken once");
            }
            assertEquals("", err.toString(StandardCharsets.UTF_8), "nothing on stderr while held");
            log.warn("after the demo");
        } finally {
            System.setErr(original);
        }
        assertEquals(2, taken.size(), taken.toString());
        assertTrue(taken.get(0).endsWith("WARN  HeldLogsTest task mail.send #3: FAILURE after 4 run(s): smtp \\e[2J down"),
                taken.get(0));
        assertTrue(taken.get(1).endsWith("with a cause") && !taken.get(1).contains("\n"), "one line, no stack: " + taken.get(1));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("after the demo"), "the log's own appenders are back");
    }
}
