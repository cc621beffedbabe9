package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pump's decisions, without Redis: what to fetch, when to wait, and that no wake-up is lost. */
class PumpStateTest {

    @Test
    void aNewPumpFetchesIntoEveryFreeSlot() {
        PumpState state = new PumpState(3);
        assertTrue(state.fetchWanted(), "at start the queue may hold tasks");
        assertTrue(state.tryStartRoundTrip());
        PumpState.Fetch fetch = state.planFetch(false);
        assertEquals(3, fetch.take(), "every free slot is filled");
        assertEquals(0, state.freeSlots(), "the slots are claimed while the round trip is in flight");
    }

    @Test
    void aFetchThatGetsFewerThanAskedGivesTheRestBackAndStopsFetchingUntilWokenUp() {
        PumpState state = new PumpState(3);
        state.tryStartRoundTrip();
        PumpState.Fetch fetch = state.planFetch(false);
        state.fetched(fetch, 1);
        state.endRoundTrip();

        assertEquals(2, state.freeSlots(), "the two slots the fetch did not fill are free again");
        assertFalse(state.fetchWanted(), "the queue ran empty");
        assertFalse(state.hasWork(false), "nothing to send: no result, and the queue is empty");
        assertTrue(state.shouldWaitForWork(), "with free slots and an empty queue the waiter blocks on Redis");

        state.wokenUp();
        assertTrue(state.fetchWanted());
        assertTrue(state.hasWork(false));
        assertFalse(state.shouldWaitForWork());
    }

    @Test
    void aFetchThatGetsAllItAskedForKeepsFetching() {
        PumpState state = new PumpState(2);
        state.tryStartRoundTrip();
        state.fetched(state.planFetch(false), 2);
        state.endRoundTrip();
        assertTrue(state.fetchWanted(), "the queue may hold more");
        assertEquals(0, state.freeSlots());
        state.slotReleased();
        assertTrue(state.hasWork(false), "a freed slot is filled at once");
    }

    @Test
    void aWakeUpDuringARoundTripThatFindsTheQueueEmptyIsNotLost() {
        PumpState state = new PumpState(2);
        state.tryStartRoundTrip();
        PumpState.Fetch fetch = state.planFetch(false);
        // The waiter comes back from BLPOP (an add pushed a token) while the fetch is in flight,
        // and the fetch, which Redis ran before that add, answers "empty" afterwards.
        state.wokenUp();
        state.fetched(fetch, 0);
        state.endRoundTrip();

        assertTrue(state.fetchWanted(), "the wake-up is newer than the empty answer: fetch again");
        assertTrue(state.hasWork(false), "the pump looks again instead of leaving the task for the idle block");
        assertFalse(state.shouldWaitForWork(), "the waiter must not block: its token was spent on this wake-up");
    }

    @Test
    void anOlderRoundTripsEmptyAnswerDoesNotUndoANewerOnesFullAnswer() {
        PumpState state = new PumpState(2);
        state.tryStartRoundTrip();
        PumpState.Fetch older = state.planFetch(false);   // claims both slots
        state.slotReleased();                            // (as if a run handed a slot back meanwhile)
        state.tryStartRoundTrip();
        PumpState.Fetch newer = state.planFetch(true);
        assertEquals(1, newer.take());

        state.fetched(newer, 1);    // the newer one got all it asked for
        state.fetched(older, 0);    // the older one, back last, found nothing when Redis ran it
        assertTrue(state.fetchWanted(), "the newer answer wins: the queue may hold more");
    }

    @Test
    void anEmptyAnswerAfterAWakeUpIsBelieved() {
        PumpState state = new PumpState(1);
        state.wokenUp();
        state.tryStartRoundTrip();
        PumpState.Fetch fetch = state.planFetch(false);
        state.fetched(fetch, 0);
        state.endRoundTrip();
        assertFalse(state.fetchWanted(), "a fetch prepared after the wake-up saw what the wake-up announced");
        assertTrue(state.shouldWaitForWork());
    }

    @Test
    void resultsToSendTakeAFetchAlongEvenWhenTheQueueLookedEmpty() {
        PumpState state = new PumpState(2);
        state.tryStartRoundTrip();
        state.fetched(state.planFetch(false), 0);
        state.endRoundTrip();
        assertFalse(state.fetchWanted());

        state.tryStartRoundTrip();
        assertEquals(0, state.planFetch(false).take(), "no round trip just to look at an empty queue");
        assertEquals(2, state.planFetch(true).take(), "a round trip that goes anyway fetches for free");
    }

    @Test
    void atMostTwoRoundTripsAreInFlightAndTheWaiterWaitsForBoth() {
        PumpState state = new PumpState(4);
        assertTrue(state.tryStartRoundTrip());
        assertTrue(state.tryStartRoundTrip());
        assertFalse(state.tryStartRoundTrip(), "a third caller leaves it to the first one back");
        assertEquals(PumpState.MAX_IN_FLIGHT, state.inFlight());

        PumpState.Fetch fetch = state.planFetch(false);
        state.fetched(fetch, 0);
        state.endRoundTrip();
        assertFalse(state.shouldWaitForWork(), "a round trip is still in flight; its return decides");
        state.endRoundTrip();
        assertTrue(state.shouldWaitForWork());
        assertTrue(state.tryStartRoundTrip());
    }

    @Test
    void slotsAreNeitherLostNorMadeUp() {
        PumpState state = new PumpState(3);
        state.tryStartRoundTrip();
        PumpState.Fetch first = state.planFetch(false);
        state.fetched(first, 2);                  // two runs hold a slot each
        state.endRoundTrip();
        assertEquals(1, state.freeSlots());

        state.tryStartRoundTrip();
        PumpState.Fetch failing = state.planFetch(true);
        assertEquals(1, failing.take());
        state.roundTripFailed(failing);           // Redis did not answer: the claimed slot comes back
        state.endRoundTrip();
        assertEquals(1, state.freeSlots());

        state.slotReleased();
        state.slotReleased();                     // both runs handed their results over
        assertEquals(3, state.freeSlots(), "free + held + claimed = worker_nums");
        assertThrows(IllegalStateException.class, () -> state.fetched(new PumpState.Fetch(1, 99), 2),
                "a fetch cannot return more tasks than it asked for");
    }

    @Test
    void aStoppedPumpFetchesNothingAndDoesNotWaitButStillSendsResults() {
        PumpState state = new PumpState(2);
        state.stopFetching();
        state.tryStartRoundTrip();
        assertEquals(0, state.planFetch(true).take());
        state.endRoundTrip();
        assertFalse(state.shouldWaitForWork());
        assertFalse(state.hasWork(false));
        assertTrue(state.hasWork(true), "finished runs are still recorded");
    }

    @Test
    void aTaskNeedsASlot() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PumpState(0));
        assertEquals("a task needs at least one slot (worker_nums), got 0", e.getMessage());
    }
}
