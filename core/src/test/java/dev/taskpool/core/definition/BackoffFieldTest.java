package dev.taskpool.core.definition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The definition's {@code backoff} field: what it accepts, its defaults, and each bad value named with file, field and value. */
class BackoffFieldTest {
    private final DefinitionLoader loader = new DefinitionLoader(Map.<String, String>of()::get);

    private TaskDefinition parse(String backoff, int attemptAfter, List<String> problems) {
        String text = """
                {"name": "n", "worker_nums": 1, "attempts": 3, "attempt_after": %d, "timeout": 1, "size": 1,
                 "process": "scripts.x.Y"%s}""".formatted(attemptAfter, backoff == null ? "" : ", \"backoff\": " + backoff);
        return loader.parse("flaky", "tasks/flaky.yao", text, problems);
    }

    private TaskDefinition parse(String backoff, int attemptAfter) {
        List<String> problems = new ArrayList<>();
        TaskDefinition definition = parse(backoff, attemptAfter, problems);
        assertEquals(List.of(), problems);
        assertNotNull(definition);
        return definition;
    }

    @Test
    void noBackoffIsTheFixedOneAndPublishesNothingNew() {
        TaskDefinition definition = parse(null, 200);
        assertEquals(Backoff.FIXED, definition.backoff());
        assertTrue(!definition.toPublishedFields().containsKey("backoff"), "the published definition stays as it was");
        assertEquals(Backoff.FIXED, parse("\"fixed\"", 200).backoff());
        assertEquals(Backoff.FIXED, parse("{\"type\": \"fixed\"}", 200).backoff());
        assertEquals(Backoff.FIXED, parse("null", 200).backoff());
    }

    @Test
    void exponentialTakesItsCapAndJitter() {
        Backoff backoff = parse("{\"type\": \"exponential\", \"max\": 600000, \"jitter\": true}", 1000).backoff();
        assertEquals(new Backoff(Backoff.Type.EXPONENTIAL, Duration.ofMillis(600_000), true), backoff);
        assertEquals("{\"type\":\"exponential\",\"max\":600000,\"jitter\":true}",
                parse("{\"type\": \"exponential\", \"max\": 600000, \"jitter\": true}", 1000).toPublishedFields().get("backoff"));
    }

    @Test
    void exponentialWithoutCapOrJitterTakesTheDefaults() {
        assertEquals(Backoff.exponential(Backoff.DEFAULT_MAX.toMillis(), false), parse("\"exponential\"", 1000).backoff());
        assertEquals(Backoff.exponential(Backoff.DEFAULT_MAX.toMillis(), false), parse("{\"type\": \"exponential\"}", 1000).backoff());
        assertEquals(Backoff.exponential(7_200_000, false), parse("\"exponential\"", 7_200_000).backoff(),
                "an attempt_after longer than the default cap is the cap");
        assertEquals(Backoff.exponential(2000, false), parse("{\"type\": \"exponential\", \"max\": 2000}", 2000).backoff(),
                "a cap equal to attempt_after is allowed");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "unknown type|\"linear\"|1000|field \"backoff\": unknown backoff; expected \"fixed\" or \"exponential\", got string \"linear\"",
            "unknown type in the object|{\"type\": \"linear\"}|1000|field \"backoff.type\": unknown backoff; expected \"fixed\" or \"exponential\", got string \"linear\"",
            "no type|{\"max\": 5000}|1000|field \"backoff.type\": missing; expected \"fixed\" or \"exponential\"",
            "type not a string|{\"type\": 2}|1000|field \"backoff.type\": unknown backoff; expected \"fixed\" or \"exponential\", got number 2",
            "a number|5000|1000|field \"backoff\": expected \"fixed\", \"exponential\" or an object such as {\"type\": \"exponential\", \"max\": 600000, \"jitter\": true}, got number 5000",
            "an array|[\"exponential\"]|1000|field \"backoff\": expected \"fixed\", \"exponential\" or an object",
            "negative max|{\"type\": \"exponential\", \"max\": -1}|1000|field \"backoff.max\": expected a number of milliseconds from 1 to 1000000000, got -1",
            "zero max|{\"type\": \"exponential\", \"max\": 0}|1000|field \"backoff.max\": expected a number of milliseconds from 1 to 1000000000, got 0",
            "huge max|{\"type\": \"exponential\", \"max\": 99999999999}|1000|field \"backoff.max\": expected a number of milliseconds from 1 to 1000000000, got 99999999999",
            "max as text|{\"type\": \"exponential\", \"max\": \"10m\"}|1000|field \"backoff.max\": expected a number of milliseconds (an integer from 1 to 1000000000), got string \"10m\"",
            "fractional max|{\"type\": \"exponential\", \"max\": 1500.5}|1000|field \"backoff.max\": expected a number of milliseconds (an integer from 1 to 1000000000), got number 1500.5",
            "max below attempt_after|{\"type\": \"exponential\", \"max\": 500}|1000|field \"backoff.max\": the cap 500 ms is shorter than attempt_after (1000 ms), the first wait; expected at least 1000",
            "jitter as text|{\"type\": \"exponential\", \"jitter\": \"yes\"}|1000|field \"backoff.jitter\": expected true or false, got string \"yes\"",
            "unknown key|{\"type\": \"exponential\", \"factor\": 3}|1000|field \"backoff.factor\": unknown field; expected type, max or jitter",
            "fixed with a cap|{\"type\": \"fixed\", \"max\": 5000}|1000|field \"backoff\": a fixed backoff waits attempt_after every time: max and jitter apply to \"exponential\" only",
            "exponential of nothing|\"exponential\"|0|field \"backoff\": an exponential backoff doubles attempt_after, which is 0",
    })
    void aBadBackoffNamesTheFileTheFieldAndTheValue(String label, String backoff, int attemptAfter, String expected) {
        List<String> problems = new ArrayList<>();
        assertNull(parse(backoff, attemptAfter, problems), label);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().startsWith("tasks/flaky.yao: "), problems.toString());
        assertTrue(problems.getFirst().contains(expected), "expected «" + expected + "» in: " + problems);
    }

    @Test
    void aBadAttemptAfterIsNotBlamedOnTheBackoff() {
        List<String> problems = new ArrayList<>();
        String text = """
                {"name": "n", "worker_nums": 1, "attempts": 3, "attempt_after": -1, "timeout": 1, "size": 1,
                 "process": "scripts.x.Y", "backoff": "exponential"}""";
        assertNull(loader.parse("flaky", "tasks/flaky.yao", text, problems));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().contains("field \"attempt_after\""), problems.toString());
    }
}
