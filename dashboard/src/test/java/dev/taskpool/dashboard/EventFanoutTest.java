package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.json.Json;
import org.junit.jupiter.api.Test;

/** How one pub/sub message becomes a browser event, and which browsers want it (plain logic). */
class EventFanoutTest {
    @Test
    void aTaskEventKeepsItsFieldsAndAControlEventGetsItsKindFromTheChannel() {
        EventFanout.Event task = EventFanout.parse("taskpool:{mail.send}:events:7", "{\"event\":\"progress\",\"task\":\"mail.send\",\"id\":7,\"current\":2}");
        assertEquals("task", task.name());
        assertEquals("mail.send", task.task());
        assertEquals(7, task.id());
        assertTrue(task.progress());
        EventFanout.Event control = EventFanout.parse("taskpool:{mail.send}:control", "{\"event\":\"paused\",\"by\":\"ops\"}");
        assertEquals("control", control.name());
        assertEquals("mail.send", Json.read(control.json(), "event").get("task").asText(), "the kind is put in for the page");
        assertNull(EventFanout.parse("taskpool:{mail.send}:control", "not json"), "a malformed message is dropped, not passed on");
        assertNull(EventFanout.parse("elsewhere:events:1", "{}"));
    }

    @Test
    void aBrowserGetsWhatItsFilterAsksForAndKindLevelEventsOnATaskPage() {
        EventFanout.Event progress = EventFanout.parse("taskpool:{a}:events:1", "{\"event\":\"progress\",\"task\":\"a\",\"id\":1}");
        EventFanout.Event success = EventFanout.parse("taskpool:{a}:events:2", "{\"event\":\"success\",\"task\":\"a\",\"id\":2}");
        EventFanout.Event paused = EventFanout.parse("taskpool:{a}:control", "{\"event\":\"paused\"}");
        EventFanout.Listener everything = new EventFanout.Listener(null, null);
        assertFalse(everything.wants(progress), "the overview does not need progress, the bulk of the events");
        assertTrue(everything.wants(success));
        EventFanout.Listener taskOne = new EventFanout.Listener("a", 1L);
        assertTrue(taskOne.wants(progress));
        assertFalse(taskOne.wants(success), "another task's event");
        assertTrue(taskOne.wants(paused), "its kind paused: the task page shows it");
        assertFalse(new EventFanout.Listener("b", null).wants(success), "another kind's event");
    }

    @Test
    void aBrowserThatFallsBehindIsToldToReloadInsteadOfHoldingEverythingUp() throws InterruptedException {
        EventFanout.Listener slow = new EventFanout.Listener(null, null);
        EventFanout.Event success = EventFanout.parse("taskpool:{a}:events:2", "{\"event\":\"success\",\"task\":\"a\",\"id\":2}");
        for (int i = 0; i < EventFanout.QUEUE_CAPACITY + 10; i++) {
            slow.offer(success);
        }
        assertEquals(EventFanout.Event.OVERFLOW, slow.next(100), "after an overflow the next thing it reads is 'reload'");
        assertNull(slow.next(10), "and the dropped events are gone");
        slow.offer(success);
        assertEquals(success, slow.next(100), "then events flow again");
    }

    @Test
    void aBrowsersQueueIsBoundedInBytesAndEventsCarryNoResponseAndNoLongTexts() throws InterruptedException {
        String response = "\"" + "r".repeat(300_000) + "\"";
        EventFanout.Event success = EventFanout.parse("taskpool:{a}:events:2",
                "{\"event\":\"success\",\"task\":\"a\",\"id\":2,\"response\":" + response + "}");
        var json = Json.read(success.json(), "event");
        assertFalse(json.has("response"), "the page fetches a response; the stream names its size: " + json);
        assertEquals(300_002, json.get("responseBytes").asLong());
        EventFanout.Event failure = EventFanout.parse("taskpool:{a}:events:3",
                "{\"event\":\"failure\",\"task\":\"a\",\"id\":3,\"error\":\"" + "e".repeat(50_000) + "\"}");
        String error = Json.read(failure.json(), "event").get("error").asText();
        assertTrue(error.length() < EventFanout.TEXT_LIMIT + 100 && error.contains("50000 characters"), error);
        EventFanout.Event huge = EventFanout.parse("taskpool:{a}:events:4",
                "{\"event\":\"progress\",\"task\":\"a\",\"id\":4,\"extra\":[" + "1,".repeat(20_000) + "1]}");
        assertEquals("{\"event\":\"progress\",\"task\":\"a\",\"id\":4,\"trimmed\":true}", huge.json());

        EventFanout.Listener slow = new EventFanout.Listener(null, null, 10 * failure.bytes());
        for (int i = 0; i < 10; i++) {
            slow.offer(failure);
        }
        assertEquals(10L * failure.bytes(), slow.queuedBytes(), "the bytes waiting are counted");
        slow.offer(failure);
        assertEquals(0, slow.queuedBytes(), "over its budget, the events are dropped");
        assertEquals(EventFanout.Event.OVERFLOW, slow.next(100), "and the browser reloads instead");
        slow.offer(success);
        assertEquals(success.bytes(), slow.queuedBytes());
        assertEquals(success, slow.next(100));
        assertEquals(0, slow.queuedBytes());
    }
}
