package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The states of one run and the moves between them, without Redis or threads. */
class RunStateTest {
    /** The moves the run makes, each written once here so a change to the table shows in review. */
    private static final List<String> LEGAL = List.of(
            "FETCHED>RUNNING", "FETCHED>HANDING_BACK", "FETCHED>ENDED",
            "RUNNING>WAITING_TO_RETRY", "RUNNING>FINISHING", "RUNNING>HANDING_BACK", "RUNNING>ENDED",
            "WAITING_TO_RETRY>RECORDING_RETRY", "WAITING_TO_RETRY>HANDING_BACK", "WAITING_TO_RETRY>ENDED",
            "RECORDING_RETRY>RUNNING", "RECORDING_RETRY>HANDING_BACK", "RECORDING_RETRY>ENDED",
            "FINISHING>RECORDED", "FINISHING>ENDED",
            "RECORDED>HANDLING", "RECORDED>ENDED",
            "HANDLING>ENDED",
            "HANDING_BACK>ENDED");

    @Test
    void theTableAllowsExactlyTheListedMoves() {
        for (RunState from : RunState.values()) {
            for (RunState to : RunState.values()) {
                assertEquals(LEGAL.contains(from + ">" + to), from.canMoveTo(to), from + " -> " + to);
            }
        }
    }

    @Test
    void endedIsTheOnlyEndAndEveryOtherStateCanReachIt() {
        for (RunState state : RunState.values()) {
            assertEquals(state != RunState.ENDED, state.canMoveTo(RunState.ENDED), state.toString());
        }
        assertTrue(EnumSet.allOf(RunState.class).stream().noneMatch(RunState.ENDED::canMoveTo), "ENDED is final");
    }

    @Test
    void aResultOnceHandedOverIsNeverHandedBack() {
        for (RunState state : Set.of(RunState.FINISHING, RunState.RECORDED, RunState.HANDLING)) {
            assertTrue(state.resultHandedOver(), state.toString());
            assertFalse(state.canMoveTo(RunState.HANDING_BACK), state.toString());
            assertFalse(state.holdsSlot(), "the slot went back with the result: " + state);
        }
        assertTrue(RunState.FINISHING.holdsLease(), "the heartbeat keeps the lease until Redis has the result");
        assertFalse(RunState.RECORDED.holdsLease());
        assertFalse(RunState.HANDLING.holdsLease());
    }

    @Test
    void aRunWithRetriesGoesRoundAndEndsWithItsHandler() {
        RunState.Machine run = new RunState.Machine();
        assertTrue(run.transition(RunState.FETCHED, RunState.RUNNING));
        assertTrue(run.transition(RunState.RUNNING, RunState.WAITING_TO_RETRY));
        assertTrue(run.transition(RunState.WAITING_TO_RETRY, RunState.RECORDING_RETRY));
        assertTrue(run.transition(RunState.RECORDING_RETRY, RunState.RUNNING));
        assertTrue(run.transition(RunState.RUNNING, RunState.FINISHING));
        assertTrue(run.transition(RunState.FINISHING, RunState.RECORDED));
        assertTrue(run.transition(RunState.RECORDED, RunState.HANDLING));
        assertEquals(RunState.HANDLING, run.moveTo(RunState.ENDED));
        assertEquals(RunState.ENDED, run.get());
    }

    @Test
    void anIllegalMoveThrowsAndLeavesTheStateAlone() {
        RunState.Machine run = new RunState.Machine();
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> run.transition(RunState.FETCHED, RunState.FINISHING));
        assertTrue(refused.getMessage().contains("FETCHED to FINISHING"), refused.getMessage());
        assertEquals(RunState.FETCHED, run.get());
    }

    @Test
    void aLegalMoveFromAnotherStateIsRefusedQuietly() {
        RunState.Machine run = new RunState.Machine();
        assertEquals(RunState.FETCHED, run.moveTo(RunState.HANDING_BACK), "a stopping worker hands back a run not started");
        assertFalse(run.transition(RunState.FETCHED, RunState.RUNNING), "its thread then finds it taken");
        assertNull(run.moveTo(RunState.HANDING_BACK), "handed back once only");
        assertEquals(RunState.HANDING_BACK, run.moveTo(RunState.ENDED));
        assertNull(run.moveTo(RunState.ENDED), "ended once only");
    }
}
