package dev.taskpool.core.definition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The definition's flow controls: what they accept, what they publish, and each bad value named with file, field and value. */
class FlowControlFieldsTest {
    private final DefinitionLoader loader = new DefinitionLoader(Map.of("CAP", "7", "PER", "0.5", "WORDS", "many")::get);

    private TaskDefinition parse(String fields, List<String> problems) {
        String text = """
                {"name": "n", "worker_nums": 1, "attempts": 3, "attempt_after": 0, "timeout": 1, "size": 1,
                 "process": "scripts.x.Y"%s}""".formatted(fields.isEmpty() ? "" : ", " + fields);
        return loader.parse("api", "tasks/api.yao", text, problems);
    }

    private FlowControl flow(String fields) {
        List<String> problems = new ArrayList<>();
        TaskDefinition definition = parse(fields, problems);
        assertEquals(List.of(), problems);
        assertNotNull(definition);
        return definition.flow();
    }

    private List<String> problems(String fields) {
        List<String> problems = new ArrayList<>();
        assertNull(parse(fields, problems));
        return problems;
    }

    @Test
    void noControlIsNoneAndPublishesNothingNew() {
        assertSame(FlowControl.NONE, flow(""));
        TaskDefinition definition = parse("", new ArrayList<>());
        assertEquals(List.of(), definition.toPublishedFields().keySet().stream()
                .filter(field -> field.startsWith("max_") || field.startsWith("rate_") || field.startsWith("unique_")).toList());
    }

    @Test
    void everyControlIsReadAndPublished() {
        FlowControl flow = flow("\"max_running\": 5, \"rate\": {\"limit\": 100, \"per\": 1.5}, \"unique\": {\"by\": \"args\", \"for\": 60}");
        assertEquals(new FlowControl(5, 100, Duration.ofMillis(1500), true, Duration.ofSeconds(60)), flow);
        Map<String, String> published = parse("\"max_running\": 5, \"rate\": {\"limit\": 100, \"per\": 1.5}, \"unique\":"
                + " {\"by\": \"args\", \"for\": 60}", new ArrayList<>()).toPublishedFields();
        assertEquals("5", published.get("max_running"));
        assertEquals("100", published.get("rate_limit"));
        assertEquals("1500", published.get("rate_per"));
        assertEquals("args", published.get("unique_by"));
        assertEquals("60000", published.get("unique_for"));
    }

    @Test
    void numbersMayComeFromTheEnvironment() {
        assertEquals(new FlowControl(7, 7, Duration.ofMillis(500), false, Duration.ZERO),
                flow("\"max_running\": \"$ENV.CAP\", \"rate\": {\"limit\": \"$ENV.CAP\", \"per\": \"$ENV.PER\"}"));
        assertEquals(List.of("tasks/api.yao: field \"max_running\": expected a number (from environment variable WORDS), got \"many\"",
                "tasks/api.yao: field \"rate.per\": environment variable NONE is not set; expected a number"),
                problems("\"max_running\": \"$ENV.WORDS\", \"rate\": {\"limit\": 1, \"per\": \"$ENV.NONE\"}"));
    }

    @Test
    void badValuesAreRefusedNamingFileFieldAndValue() {
        assertEquals(List.of("tasks/api.yao: field \"max_running\": expected an integer from 1 to 100000, got number 0"),
                problems("\"max_running\": 0"));
        assertEquals(List.of("tasks/api.yao: field \"max_running\": expected an integer from 1 to 100000, got number 2.5"),
                problems("\"max_running\": 2.5"));
        assertEquals(List.of("tasks/api.yao: field \"rate\": expected both limit (starts) and per (seconds), such as"
                + " {\"limit\": 100, \"per\": 1}"), problems("\"rate\": {\"limit\": 10}"));
        assertEquals(List.of("tasks/api.yao: field \"rate.per\": expected a number of seconds from 0.001 to 86400, got number 0"),
                problems("\"rate\": {\"limit\": 10, \"per\": 0}"));
        assertEquals(List.of("tasks/api.yao: field \"rate.burst\": unknown field; expected limit or per"),
                problems("\"rate\": {\"limit\": 10, \"per\": 1, \"burst\": 5}"));
        assertEquals(List.of("tasks/api.yao: field \"unique.by\": expected \"args\" (every add is unique by its arguments),"
                + " got string \"key\""), problems("\"unique\": {\"by\": \"key\"}"));
        assertEquals(List.of("tasks/api.yao: field \"unique\": expected an object such as {\"by\": \"args\", \"for\": 60},"
                + " got boolean true"), problems("\"unique\": true"));
    }
}
