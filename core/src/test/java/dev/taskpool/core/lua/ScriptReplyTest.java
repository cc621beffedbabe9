package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Lua table of reply codes ({@code _codes.lua}) and {@link ScriptReply} list the same names and numbers. */
class ScriptReplyTest {
    private static final Pattern ENTRY = Pattern.compile("(?m)^\\s+([A-Z_]+) = (-?\\d+),");

    @Test
    void theLuaTableAndTheEnumAgree() throws IOException {
        String table;
        try (InputStream in = ScriptReplyTest.class.getResourceAsStream("/taskpool/lua/_codes.lua")) {
            table = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Long> lua = new LinkedHashMap<>();
        Matcher entry = ENTRY.matcher(table);
        while (entry.find()) {
            assertEquals(null, lua.put(entry.group(1), Long.parseLong(entry.group(2))), "named twice: " + entry.group(1));
        }
        Map<String, Long> java = new LinkedHashMap<>();
        for (ScriptReply reply : ScriptReply.values()) {
            java.put(reply.name(), reply.code());
        }
        assertEquals(java, lua);
        assertEquals(java.size(), java.values().stream().distinct().count(), "each code means one thing");
    }

    @Test
    void aReplyIsDecodedByItsFirstValue() {
        assertEquals(ScriptReply.WRONG_STATUS, ScriptReply.of(List.of(-5L, "SUCCESS")));
        assertTrue(ScriptReply.REDIS_REFUSED.is(List.of(-11L, "OOM")));
        assertFalse(ScriptReply.DONE.is(List.of("1", "2")), "a list of ids is no code");
        assertThrows(IllegalStateException.class, () -> ScriptReply.of(-99));
    }
}
