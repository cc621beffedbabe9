package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.taskpool.core.json.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Control characters shown as text; ordinary text, Chinese and emoji included, kept as it is. */
class VisibleTest {
    @Test
    void controlCharactersBecomeVisible() {
        assertEquals("\\e]52;c;b3duZWQ=\\x07", Visible.line("\u001b]52;c;b3duZWQ=\u0007"));
        assertEquals("\\e[2J\\e[H", Visible.line("\u001b[2J\u001b[H"));
        assertEquals("\\x9b31m \\x85 \\x7f \\x00", Visible.line("\u009b31m \u0085 \u007f \u0000"));
        assertEquals("a\\nb\\tc\\rd", Visible.line("a\nb\tc\rd"));
        assertEquals("abc\\u202Eevil\\u2028x", Visible.line("abc\u202eevil\u2028x"));
        assertEquals("", Visible.line(null));
    }

    @Test
    void ordinaryTextIsKeptAsItIs() {
        String text = "发送邮件到 user@example.com — 100% 完成 ✅ 👩‍💻 C:\\path";
        assertSame(text, Visible.line(text), "nothing to change: the same string");
        assertEquals("步骤 \\e[2J 完成", Visible.line("步骤 \u001b[2J 完成"));
    }

    @Test
    void linesKeepNewlinesOnly() {
        assertEquals("2 bad task definitions:\n  a: \\e[31mred\n  b", Visible.lines("2 bad task definitions:\n  a: \u001b[31mred\n  b"));
    }

    @Test
    void visibleTextStaysAsItIs() {
        String once = Visible.line("x\u001b[2Jy\u009b");
        assertEquals(once, Visible.line(once));
    }

    @Test
    void jsonEscapesC1AndReadsBackTheSame() {
        String evil = "\u001b[2J \u009b31m \u007f \u202e 任务";
        String json = TerminalJson.compact(Map.of("m", evil));
        assertEquals("{\"m\":\"\\u001B[2J \\u009B31m \\u007F \\u202E 任务\"}", json);
        assertEquals(evil, Json.read(json, "json").path("m").asText());
    }

    @Test
    void shortenedCellsAreVisibleToo() {
        assertEquals("a\\e[2Jb…", Human.shorten("a\u001b[2Jbcdefgh", 8));
    }
}
