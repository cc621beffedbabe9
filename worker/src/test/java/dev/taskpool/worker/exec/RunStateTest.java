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
            "RUNNING>RECORDING_RETRY", "RUNNING>FINISHING", "RUNNING>HANDING_BACK", "RUNNING>ENDED",
            "RECORDING_RETRY>ENDED",
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
    void aFailedRunWithRunsLeftEndsOnceItsRetryIsRecordedAndNeverRunsAgainHere() {
        RunState.Machine run = new RunState.Machine();
        assertTrue(run.transition(RunState.FETCHED, RunState.RUNNING));
        assertTrue(run.transition(RunState.RUNNING, RunState.RECORDING_RETRY));
        assertTrue(RunState.RECORDING_RETRY.holdsSlot(), "the slot is free once Redis has the retry");
        assertTrue(RunState.RECORDING_RETRY.holdsLease(), "the heartbeat keeps the lease while the retry is being recorded");
        assertFalse(RunState.RECORDING_RETRY.canMoveTo(RunState.RUNNING), "the next run is another fetch");
        assertFalse(RunState.RECORDING_RETRY.canMoveTo(RunState.HANDING_BACK), "the retry gives the task back itself");
        assertEquals(RunState.RECORDING_RETRY, run.moveTo(RunState.ENDED));
    }

    @Test
    void aRunEndsWithItsHandler() {
        RunState.Machine run = new RunState.Machine();
        assertTrue(run.transition(RunState.FETCHED, RunState.RUNNING));
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
