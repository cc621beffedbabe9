package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which control messages order a run to stop. */
class ControlListenerTest {
    @Test
    void aCancelMessageNamesTheIdTheLeaseAndWhoCanceled() {
        assertEquals(new ControlListener.Cancel(7, "w1/2", "ann"), ControlListener.parseCancel(
                "{\"event\":\"cancel\",\"task\":\"t\",\"id\":7,\"lease\":\"w1/2\",\"by\":\"ann\",\"at\":1}"));
        assertEquals(new ControlListener.Cancel(7, "w1/2", null), ControlListener.parseCancel(
                "{\"event\":\"cancel\",\"id\":7,\"lease\":\"w1/2\",\"by\":null}"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"event\":\"paused\",\"task\":\"t\",\"by\":\"ann\"}",
            "{\"event\":\"resubmitted\",\"count\":3}",
            "{\"event\":\"cancel\",\"id\":\"seven\",\"lease\":\"w1/2\"}",
            "{\"event\":\"cancel\",\"id\":7}",
            "not json at all",
            "",
    })
    void anythingElseOrdersNothing(String message) {
        assertNull(ControlListener.parseCancel(message), message);
    }
}
