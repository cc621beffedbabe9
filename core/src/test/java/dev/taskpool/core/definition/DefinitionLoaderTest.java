package dev.taskpool.core.definition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DefinitionLoaderTest {
    private static final String SEED_EXAMPLE = """
            {
              "name": "示例任务",
              "worker_nums": 10,
              "attempts": 3,
              "attempt_after": 200,
              "timeout": 2,
              "size": 1000,
              "process": "scripts.task.Send",
              "event": {
                "next": "scripts.task.NextID",
                "add": "scripts.task.OnAdd",
                "success": "scripts.task.OnSuccess",
                "error": "scripts.task.OnError",
                "progress": "scripts.task.OnProgress"
              }
            }
            """;

    @TempDir
    Path app;

    private final DefinitionLoader loader = new DefinitionLoader(Map.of("WORKERS", "7", "WORDS", "many")::get);

    private void write(String relative, String text) throws IOException {
        Path file = app.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    @Test
    void loadsTheSeedExampleWithEveryFieldOfTheTable() throws IOException {
        write("tasks/example.yao", SEED_EXAMPLE);
        TaskDefinition definition = loader.loadApp(app).getFirst();
        assertEquals("example", definition.id());
        assertEquals("示例任务", definition.name());
        assertEquals(10, definition.workerNums());
        assertEquals(3, definition.attempts());
        assertEquals(4, definition.maxRuns());
        assertEquals(Duration.ofMillis(200), definition.attemptAfter());
        assertEquals(Duration.ofSeconds(2), definition.timeout());
        assertEquals(1000, definition.size());
        assertEquals("scripts.task.Send", definition.process());
        assertEquals(new TaskEvents("scripts.task.NextID", "scripts.task.OnAdd", "scripts.task.OnSuccess",
                "scripts.task.OnError", "scripts.task.OnProgress"), definition.events());
        assertEquals(TaskDefinition.DEFAULT_KEEP, definition.keep());
    }

    @Test
    void taskIdsComeFromThePathForEveryExtension() throws IOException {
        String minimal = """
                {"name": "n", "worker_nums": 1, "attempts": 0, "attempt_after": 0, "timeout": 1, "size": 1,
                 "process": "scripts.x.Y"}""";
        write("tasks/mail/send.yao", minimal);
        write("tasks/report.json", minimal);
        write("tasks/deep/er/job.jsonc", minimal);
        write("tasks/notes.txt", "not a definition");
        List<String> ids = loader.loadApp(app).stream().map(TaskDefinition::id).toList();
        assertEquals(List.of("deep.er.job", "mail.send", "report"), ids);
    }

    @Test
    void acceptsCommentsTrailingCommasAndEnvironmentNumbers() throws IOException {
        write("tasks/env.yao", """
                // a comment
                {
                  "name": "env", /* block comment */
                  "worker_nums": "$ENV.WORKERS",
                  "attempts": 0, "attempt_after": 0, "timeout": 1, "size": 5,
                  "keep": 60,
                  "process": "scripts.x.Y",
                }
                """);
        TaskDefinition definition = loader.loadApp(app).getFirst();
        assertEquals(7, definition.workerNums());
        assertEquals(Duration.ofSeconds(60), definition.keep());
        assertNull(definition.events().next());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "worker_nums zero|\"worker_nums\": 0|field \"worker_nums\": expected an integer from 1 to 1000000000, got 0",
            "negative attempts|\"attempts\": -1|field \"attempts\": expected an integer from 0 to 1000000000, got -1",
            "negative attempt_after|\"attempt_after\": -5|field \"attempt_after\": expected an integer from 0 to 1000000000, got -5",
            "zero timeout|\"timeout\": 0|field \"timeout\": expected an integer from 1 to 1000000000, got 0",
            "zero size|\"size\": 0|field \"size\": expected an integer from 1 to 1000000000, got 0",
            "fractional size|\"size\": 2.5|field \"size\": expected an integer of at least 1, got number 2.5",
            "string number|\"size\": \"ten\"|field \"size\": expected an integer or \"$ENV.NAME\", got string \"ten\"",
            "boolean number|\"timeout\": true|field \"timeout\": expected an integer of at least 1, got boolean true",
            "unset env|\"size\": \"$ENV.NOT_SET_ANYWHERE\"|field \"size\": environment variable NOT_SET_ANYWHERE is not set",
            "env not a number|\"size\": \"$ENV.WORDS\"|field \"size\": expected an integer (from environment variable WORDS), got \"many\"",
            "process not a string|\"process\": 42|field \"process\": expected a non-empty string, got number 42",
            "process without group|\"process\": \"Send\"|field \"process\": expected a process name such as \"scripts.task.Send\"",
            "name empty|\"name\": \"\"|field \"name\": expected a non-empty string, got string \"\"",
            "unknown field|\"worker_num\": 3|field \"worker_num\": unknown field; expected one of",
            "event not an object|\"event\": \"scripts.a.B\"|field \"event\": expected an object of event handlers",
            "unknown event|\"event\": {\"finish\": \"scripts.a.B\"}|field \"event.finish\": unknown event",
            "event handler not a string|\"event\": {\"add\": 1}|field \"event.add\": expected a process name such as \"scripts.task.OnAdd\", got number 1",
            "too large|\"size\": 99999999999|field \"size\": expected an integer from 1 to 1000000000, got 99999999999",
    })
    void aBadFieldNamesTheFileTheFieldAndWhatWasExpected(String label, String override, String expected) throws IOException {
        String field = override.substring(1, override.indexOf('"', 1));
        String base = """
                {"name": "n", "worker_nums": 1, "attempts": 0, "attempt_after": 0, "timeout": 1, "size": 1,
                 "process": "scripts.x.Y"}""";
        String text = base.contains("\"" + field + "\"")
                ? base.replaceFirst("\"" + field + "\": (\"[^\"]*\"|[0-9]+)", Matcher.quoteReplacement(override))
                : base.replace("{", "{" + override + ", ");
        write("tasks/bad.yao", text);
        DefinitionException error = assertThrows(DefinitionException.class, () -> loader.loadApp(app));
        assertEquals(1, error.problems().size(), error.getMessage());
        assertTrue(error.problems().getFirst().startsWith("tasks/bad.yao: "), error.getMessage());
        assertTrue(error.getMessage().contains(expected), "expected «" + expected + "» in: " + error.getMessage());
    }

    @Test
    void missingRequiredFieldsAreEachNamed() throws IOException {
        write("tasks/empty.yao", "{}");
        DefinitionException error = assertThrows(DefinitionException.class, () -> loader.loadApp(app));
        for (String field : List.of("name", "worker_nums", "attempts", "attempt_after", "timeout", "size", "process")) {
            assertTrue(error.getMessage().contains("field \"" + field + "\": missing"), field + " in " + error.getMessage());
        }
    }

    @Test
    void malformedJsonGivesTheLine() throws IOException {
        write("tasks/broken.yao", "{\n  \"name\": \"x\",\n  \"size\": ,\n}");
        DefinitionException error = assertThrows(DefinitionException.class, () -> loader.loadApp(app));
        assertTrue(error.getMessage().contains("tasks/broken.yao: malformed JSON at line 3"), error.getMessage());
    }

    @Test
    void aJsonValueThatIsNotAnObjectIsRefused() throws IOException {
        write("tasks/list.yao", "[1, 2]");
        DefinitionException error = assertThrows(DefinitionException.class, () -> loader.loadApp(app));
        assertTrue(error.getMessage().contains("tasks/list.yao: expected a JSON object"), error.getMessage());
    }

    @Test
    void everyBadFileIsListedNotJustTheFirst() throws IOException {
        write("tasks/a.yao", "{");
        write("tasks/b.yao", "{\"name\": 1}");
        write("tasks/c.yao", "{\"name\": \"ok\", \"worker_nums\": 1, \"attempts\": 0, \"attempt_after\": 0, \"timeout\": 1,"
                + " \"size\": 1, \"process\": \"scripts.x.Y\"}");
        DefinitionException error = assertThrows(DefinitionException.class, () -> loader.loadApp(app));
        assertTrue(error.getMessage().contains("tasks/a.yao"), error.getMessage());
        assertTrue(error.getMessage().contains("tasks/b.yao"), error.getMessage());
        assertTrue(!error.getMessage().contains("tasks/c.yao"), error.getMessage());
    }

    @Test
    void duplicateIdsAndIdsThatWouldBreakTheKeyLayoutAreRefused() throws IOException {
        String minimal = "{\"name\": \"n\", \"worker_nums\": 1, \"attempts\": 0, \"attempt_after\": 0, \"timeout\": 1,"
                + " \"size\": 1, \"process\": \"scripts.x.Y\"}";
        write("tasks/same.yao", minimal);
        write("tasks/same.json", minimal);
        write("tasks/we{ird}.yao", minimal);
        DefinitionException error = assertThrows(DefinitionException.class, () -> loader.loadApp(app));
        assertTrue(error.getMessage().contains("task id 'same' is already defined by tasks/same."), error.getMessage());
        assertTrue(error.getMessage().contains("gives task id 'we{ird}', which is not valid"), error.getMessage());
    }

    @Test
    void anAppWithoutTasksDirectoryIsAnError() {
        DefinitionException error = assertThrows(DefinitionException.class, () -> loader.loadApp(app));
        assertTrue(error.getMessage().contains("no tasks/ directory"), error.getMessage());
    }
}
