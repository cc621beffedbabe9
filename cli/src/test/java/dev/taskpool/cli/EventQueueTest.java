package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** watch's queue of received events is bounded: progress goes first, the end of a task last, and drops are counted. */
class EventQueueTest {
    private static String event(String name, long id) {
        return "{\"event\":\"" + name + "\",\"task\":\"k\",\"id\":" + id + "}";
    }

    private static List<String> drain(EventQueue queue) throws InterruptedException {
        List<String> names = new ArrayList<>();
        for (JsonNode event = queue.poll(0); event != null; event = queue.poll(0)) {
            names.add(event.path("event").asText() + "#" + event.path("id").asLong());
        }
        return names;
    }

    @Test
    void aFullQueueDropsTheOldestProgressFirstAndKeepsEnds() throws InterruptedException {
        EventQueue queue = new EventQueue(4);
        queue.add(event("started", 1));
        queue.add(event("progress", 1));
        queue.add(event("progress", 2));
        queue.add(event("success", 1));
        queue.add(event("progress", 3));   // full: progress#1 goes
        queue.add(event("failure", 2));    // full: progress#2 goes
        queue.add(event("canceled", 3));   // full: progress#3 goes
        queue.add(event("deleted", 1));    // full, no progress: started#1 goes
        assertEquals(4, queue.takeDropped());
        assertEquals(0, queue.takeDropped(), "counted once");
        assertEquals(List.of("success#1", "failure#2", "canceled#3", "deleted#1"), drain(queue));
    }

    @Test
    void aQueueOfEndsOnlyStaysBoundedToo() throws InterruptedException {
        EventQueue queue = new EventQueue(2);
        for (int id = 1; id <= 1000; id++) {
            queue.add(event("success", id));
        }
        assertEquals(998, queue.takeDropped());
        assertEquals(List.of("success#999", "success#1000"), drain(queue));
    }

    @Test
    void pollWaitsForAnEventAndMessagesThatAreNotJsonAreKept() throws InterruptedException {
        EventQueue queue = new EventQueue(10);
        assertNull(queue.poll(1_000_000));
        Thread producer = Thread.ofVirtual().start(() -> queue.add("not json \u001b[2J"));
        JsonNode event = queue.poll(60_000_000_000L);
        producer.join();
        assertEquals("unreadable", event.path("event").asText());
        assertEquals("not json \u001b[2J", event.path("text").asText());
        assertFalse(queue.takeDropped() > 0);
        assertTrue(drain(queue).isEmpty());
    }

    @Test
    void largeResponsesAreBoundedInCharactersNotOnlyInNumber() throws InterruptedException {
        String big = "x".repeat(1000);
        EventQueue queue = new EventQueue(100, 3500);   // room for 100 events, but only 3 of these
        for (long id = 1; id <= 5; id++) {
            queue.add("{\"event\":\"success\",\"task\":\"k\",\"id\":" + id + ",\"response\":\"" + big + "\"}");
        }
        assertEquals(2, queue.takeDropped(), "the two oldest went, whole");
        assertEquals(List.of("success#3", "success#4", "success#5"), drain(queue));
        queue.add(event("started", 6));
        assertEquals(List.of("started#6"), drain(queue), "what was polled gave its room back");
        assertEquals(0, queue.takeDropped());
    }
}
