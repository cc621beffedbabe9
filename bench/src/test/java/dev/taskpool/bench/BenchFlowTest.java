package dev.taskpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.redis.AddOptions;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The benchmark's flow controls: what the options put in the definition and in each add. */
class BenchFlowTest {
    @Test
    void noOptionIsAPlainKind() {
        BenchFlow flow = BenchFlow.parse(0, null, null, 0);
        assertSame(BenchFlow.NONE, flow);
        Map<String, Object> definition = new LinkedHashMap<>();
        flow.putInto(definition);
        assertTrue(definition.isEmpty(), definition.toString());
        assertEquals("none", flow.describe());
        assertEquals(AddOptions.none(), flow.addOptions(0));
        assertEquals(AddOptions.none(), flow.batchOptions(0));
    }

    @Test
    void theControlsGoIntoTheDefinition() {
        BenchFlow flow = BenchFlow.parse(10, "5/0.5", "args", 0);
        Map<String, Object> definition = new LinkedHashMap<>();
        flow.putInto(definition);
        assertEquals(10, definition.get("max_running"));
        assertEquals(Map.of("limit", 5, "per", new BigDecimal("0.5")), definition.get("rate"));
        assertEquals(Map.of("by", "args"), definition.get("unique"));
        assertEquals("max_running 10, rate 5/0.5s, unique by args", flow.describe());
    }

    @Test
    void keysAndPrioritiesGoIntoTheAdds() {
        BenchFlow flow = BenchFlow.parse(0, null, "key", 2);
        assertEquals(Optional.of("bench-7"), flow.addOptions(7).uniqueKey());
        assertEquals(2, flow.addOptions(6).priorityLevel(), "every other add at the priority");
        assertEquals(0, flow.addOptions(7).priorityLevel());
        assertThrows(IllegalStateException.class, () -> flow.batchOptions(0), "a key names one task");
        BenchFlow batches = BenchFlow.parse(0, null, null, 3);
        assertEquals(3, batches.batchOptions(0).priorityLevel());
        assertEquals(0, batches.batchOptions(1).priorityLevel());
        assertEquals("a unique key per add, half the adds at priority 2", flow.describe());
    }

    @Test
    void wrongValuesAreRefusedNamingTheOption() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchFlow.parse(0, "5", null, 0))
                .getMessage().startsWith("--rate must be LIMIT/SECONDS"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchFlow.parse(0, "0/1", null, 0))
                .getMessage().startsWith("--rate must allow 1 to"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchFlow.parse(0, null, "id", 0))
                .getMessage().startsWith("--unique must be args or key"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchFlow.parse(0, null, null, 4))
                .getMessage().startsWith("--priority must be from 1 to 3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchFlow.parse(-1, null, null, 0))
                .getMessage().startsWith("--max-running must be from 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchFlow.parse(0, null, null, 0, 0))
                .getMessage().startsWith("--partitions must be from 1 to 100"));
    }

    @Test
    void partitionsGoIntoTheDefinition() {
        BenchFlow flow = BenchFlow.parse(0, null, null, 0, 3);
        java.util.Map<String, Object> definition = new java.util.HashMap<>();
        flow.putInto(definition);
        assertEquals(java.util.Map.of("partitions", 3), definition);
        assertEquals("3 partitions", flow.describe());
        assertEquals(BenchFlow.NONE, BenchFlow.parse(0, null, null, 0, 1));
    }
}
