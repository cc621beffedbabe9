package dev.taskpool.core.definition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The definition's {@code partitions}: its default, its bounds, the shares it divides, and each bad value named. */
class PartitionsFieldTest {
    private final DefinitionLoader loader = new DefinitionLoader(Map.of("PARTS", "3")::get);

    private TaskDefinition parse(String fields, List<String> problems) {
        String text = """
                {"name": "n", "worker_nums": 4, "attempts": 0, "attempt_after": 0, "timeout": 1, "size": 10,
                 "process": "scripts.x.Y"%s}""".formatted(fields.isEmpty() ? "" : ", " + fields);
        return loader.parse("img", "tasks/img.yao", text, problems);
    }

    private List<String> problems(String fields) {
        List<String> problems = new ArrayList<>();
        assertNull(parse(fields, problems));
        return problems;
    }

    @Test
    void oneByDefaultAndPublishedOnlyWhenMore() {
        TaskDefinition plain = parse("", new ArrayList<>());
        assertEquals(1, plain.partitions());
        assertNull(plain.toPublishedFields().get("partitions"));
        TaskDefinition three = parse("\"partitions\": \"$ENV.PARTS\"", new ArrayList<>());
        assertEquals(3, three.partitions());
        assertEquals("3", three.toPublishedFields().get("partitions"));
    }

    @Test
    void eachPartitionHoldsItsShareOfSizeCapAndRate() {
        TaskDefinition three = parse("\"partitions\": 3, \"max_running\": 5, \"rate\": {\"limit\": 7, \"per\": 1}",
                new ArrayList<>());
        List<TaskDefinition> shares = List.of(three.partitionShare(0, 3), three.partitionShare(1, 3), three.partitionShare(2, 3));
        assertEquals(List.of(4, 3, 3), shares.stream().map(TaskDefinition::size).toList());
        assertEquals(List.of(2, 2, 1), shares.stream().map(share -> share.flow().maxRunning()).toList());
        assertEquals(List.of(3, 2, 2), shares.stream().map(share -> share.flow().rateLimit()).toList());
        assertEquals(10, shares.stream().mapToInt(TaskDefinition::size).sum());
    }

    @Test
    void badValuesAreNamedWithFileFieldAndValue() {
        assertEquals(List.of("tasks/img.yao: field \"partitions\": expected an integer from 1 to 2147483647, got 0"),
                problems("\"partitions\": 0").stream().map(p -> p.replaceAll("to \\d+", "to 2147483647")).toList());
        assertEquals(List.of("tasks/img.yao: field \"partitions\": expected an integer from 1 to 100, got 101"),
                problems("\"partitions\": 101"));
        assertEquals(List.of("tasks/img.yao: field \"partitions\": 11 is more than size 10, which the partitions share"),
                problems("\"partitions\": 11"));
        assertEquals(List.of("tasks/img.yao: field \"partitions\": 3 is more than max_running 2, which the partitions share"),
                problems("\"partitions\": 3, \"max_running\": 2"));
        assertEquals(List.of("tasks/img.yao: field \"partitions\": 3 is more than the rate's limit 2, which the partitions share"),
                problems("\"partitions\": 3, \"rate\": {\"limit\": 2, \"per\": 1}"));
    }
}
