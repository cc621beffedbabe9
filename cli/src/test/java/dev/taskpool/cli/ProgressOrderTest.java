package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import org.junit.jupiter.api.Test;

/** Per task, progress only moves forward within a run, and an ended task stays ended until a new run. */
class ProgressOrderTest {
    private static JsonNode event(String name, long current) {
        return Json.read("{\"event\":\"" + name + "\",\"task\":\"k\",\"id\":7,\"current\":" + current + ",\"total\":20}", "event");
    }

    @Test
    void progressNeverGoesBackAndAnEndedTaskStaysEnded() {
        ProgressOrder order = new ProgressOrder();
        assertTrue(order.accept(event("started", 0)));
        assertTrue(order.accept(event("progress", 20)));
        assertFalse(order.accept(event("progress", 18)), "20/20 then 18/20");
        assertEquals(20, order.progress("k", 7).path("current").asLong());
        assertTrue(order.accept(event("progress", 20)), "the same again is no step back");
        assertTrue(order.accept(event("success", 0)));
        assertTrue(order.ended("k", 7));
        assertFalse(order.accept(event("progress", 19)), "a late progress after the end");
        // an operator's retry: a new run starts from nothing
        assertTrue(order.accept(event("resubmitted", 0)));
        assertFalse(order.ended("k", 7));
        assertTrue(order.accept(event("started", 0)));
        assertTrue(order.accept(event("progress", 3)));
    }
}
