package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.support.TestRedis;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The scripts are joined from their shared parts at start-up: every script resolves, Redis accepts
 * it (SCRIPT LOAD compiles it, on a real Redis), every shared name it uses is defined before its
 * use, and a broken include fails with a message naming the script and the include.
 */
class LuaSourceTest {
    /** The parts' definitions at the start of a line: {@code local function name(} or {@code local NAME =}. */
    private static final Pattern DEFINITION = Pattern.compile("(?m)^local (?:function )?([A-Za-z_][A-Za-z0-9_]*)\\s*[(=]");
    /** Where the scripts and their parts are (the tests run in the module's directory). */
    private static final Path SOURCES = Path.of("src/main/resources/taskpool/lua");
    /** The most lines a script or part may have of its own: past that, cut it into parts. */
    private static final int MOST_LINES = 200;

    @Test
    void everyScriptResolvesAndRedisAcceptsIt() {
        try (RedisConnector redis = RedisConnector.connect(TestRedis.uri())) {
            for (LuaScript script : LuaScript.values()) {
                assertFalse(Pattern.compile("(?m)^" + LuaSource.MARKER).matcher(script.source()).find(),
                        script.file() + " still holds an include line");
                assertEquals(script.sha(), redis.sync().scriptLoad(script.source()), script.file());
            }
        }
    }

    @Test
    void aScriptKeepsItsHashBangLineFirst() {
        assertTrue(LuaScript.FINISH.source().startsWith("#!lua flags=allow-oom\n"));
        assertFalse(LuaScript.ENQUEUE.source().startsWith("#!"), "enqueue has no #! line (Redis 6 cannot parse it)");
    }

    @Test
    void everySharedNameIsDefinedBeforeItsFirstUse() {
        Map<String, String> definedIn = new LinkedHashMap<>();
        for (String part : parts()) {
            Matcher definition = DEFINITION.matcher(resource(part));
            while (definition.find()) {
                definedIn.put(definition.group(1), part);
            }
        }
        assertTrue(definedIn.keySet().containsAll(List.of("REPLY", "wrongType", "readFailed", "pruneFinishedList", "listenersOf")),
                definedIn.toString());
        List<String> problems = new ArrayList<>();
        for (LuaScript script : LuaScript.values()) {
            String code = withoutComments(script.source());
            for (Map.Entry<String, String> name : definedIn.entrySet()) {
                Matcher use = Pattern.compile("\\b" + name.getKey() + "\\b").matcher(code);
                if (!use.find()) {
                    continue;
                }
                Matcher definition = Pattern.compile("(?m)^local (?:function )?" + name.getKey() + "\\b").matcher(code);
                if (!definition.find() || definition.start() > use.start()) {
                    problems.add(script.file() + " uses " + name.getKey() + " without including " + name.getValue() + " before");
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void everyFileIsShortAndEveryPartIsUsed() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path file : files.toList()) {
                long lines = Files.readAllLines(file).size();
                if (lines > MOST_LINES) {
                    problems.add(file.getFileName() + " has " + lines + " lines");
                }
            }
        }
        for (String part : parts()) {
            boolean used = false;
            for (LuaScript script : LuaScript.values()) {
                used |= resource(script.file()).contains(LuaSource.MARKER + part) || includedByPart(part);
            }
            if (!used) {
                problems.add(part + " is included nowhere");
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void partsIncludeParts() {
        String source = LuaSource.resolve("test-nested.lua");
        assertTrue(source.indexOf("local function leaf") < source.indexOf("local function middle"), source);
        assertTrue(source.endsWith("return {leaf(), middle()}\n"), source);
    }

    @Test
    void aMissingPartIsNamed() {
        var error = assertThrows(IllegalStateException.class, () -> LuaSource.resolve("test-missing.lua"));
        assertEquals("Lua script test-missing.lua includes _test-absent.lua, which does not exist in taskpool/lua"
                + " (included from test-missing.lua)", error.getMessage());
    }

    @Test
    void aPartIncludedTwiceIsRefused() {
        var error = assertThrows(IllegalStateException.class, () -> LuaSource.resolve("test-twice.lua"));
        assertEquals("Lua script test-twice.lua includes _test-leaf.lua twice (from test-twice.lua and from"
                + " _test-middle.lua); a part is put in once: include it in one place only", error.getMessage());
    }

    @Test
    void aCycleIsRefused() {
        var error = assertThrows(IllegalStateException.class, () -> LuaSource.resolve("test-cycle.lua"));
        assertEquals("Lua script test-cycle.lua includes itself: test-cycle.lua -> _test-cycle-a.lua -> _test-cycle-b.lua"
                + " -> _test-cycle-a.lua", error.getMessage());
    }

    private static List<String> parts() {
        try (Stream<Path> files = Files.list(SOURCES)) {
            return files.map(file -> file.getFileName().toString()).filter(name -> name.startsWith("_")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean includedByPart(String part) {
        return parts().stream().anyMatch(other -> resource(other).contains(LuaSource.MARKER + part));
    }

    private static String withoutComments(String lua) {
        return lua.replaceAll("--[^\n]*", "");
    }

    static String resource(String file) {
        try (InputStream in = LuaSourceTest.class.getResourceAsStream(LuaSource.DIRECTORY + file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
