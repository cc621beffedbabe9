package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tables line up with and without colours; durations, rates and bars read as an operator expects. */
class TableTest {
    private static Terminal terminal(boolean colours) {
        return new Terminal(new PrintStream(new ByteArrayOutputStream()), colours, colours);
    }

    private static Table sample() {
        return new Table("TASK", "WAITING>", "PAUSED")
                .row().cell("mail.send").cell(12, Terminal.Style.YELLOW).cell("no")
                .row().cell("image.resize").cell(0).cell("yes (bob)", Terminal.Style.YELLOW);
    }

    @Test
    void columnsAlignAndNumbersAreRightAligned() {
        assertEquals(List.of(
                "TASK          WAITING  PAUSED",
                "mail.send          12  no",
                "image.resize        0  yes (bob)"), sample().render(terminal(false)));
    }

    @Test
    void coloursDoNotShiftColumns() {
        List<String> coloured = sample().render(terminal(true));
        List<String> stripped = coloured.stream().map(line -> line.replaceAll("\u001b\\[[0-9;]*m", "")).toList();
        assertEquals(sample().render(terminal(false)), stripped);
        assertEquals("mail.send" + " ".repeat(10) + "\u001b[33m12\u001b[0m  no", coloured.get(1),
                "the number is painted, the padding is not");
    }

    @Test
    void humanNumbers() {
        assertEquals("850ms", Human.duration(850));
        assertEquals("42s", Human.duration(42_000));
        assertEquals("3m05s", Human.duration(185_000));
        assertEquals("2h10m", Human.duration(7_800_000));
        assertEquals("3d04h", Human.duration(273_600_000));
        assertEquals("-", Human.duration(-1));
        assertEquals("0", Human.rate(0));
        assertEquals("0.05", Human.rate(0.05));
        assertEquals("12.5", Human.rate(12.5));
        assertEquals("[#####.....] 5/10", Human.bar(5, 10, 10));
        assertEquals("[##########] 12/10", Human.bar(12, 10, 10));
        assertEquals("", Human.bar(0, 0, 10));
        assertEquals("ab…", Human.shorten("ab\ncdef", 3));
    }
}
