package dev.taskpool.worker.exec;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where one fetched task is in its life in this worker ({@link TaskRun}), in the order it goes:
 *
 * <ol>
 *   <li>{@link #FETCHED}: the pump took the task under a lease (token {@code <worker>/<run>}) and
 *       put the run in the {@link RunTable}: the heartbeat extends its lease, the deadline check
 *       watches its attempts. It waits for its run thread, in a slot.</li>
 *   <li>{@link #RUNNING}: the processor runs once (one {@link AttemptStop attempt}, with its
 *       deadline, {@code timeout}).</li>
 *   <li>It ends in one of these ways:
 *     <ul>
 *       <li>failed with runs left (Resilience4j's {@code Retry}, in {@link RunRetries}, decides, and
 *           gives the wait): {@link #RECORDING_RETRY} while the retry script ends the lease and puts
 *           the task in Redis to wait for its next run, then {@link #ENDED}. The next run is another
 *           fetch, by any worker, under a new lease; nothing of it waits here;</li>
 *       <li>with a result: {@link #FINISHING} (SUCCESS or FAILURE went to the pump, which records it
 *           in its next round trip; the slot is free), {@link #RECORDED} once Redis answered (the
 *           lease is spent), {@link #HANDLING} while its {@code success}/{@code error} handler
 *           runs, then {@link #ENDED};</li>
 *       <li>by a stop order ({@link StopOrder}): SHUTDOWN hands the task back to the queue
 *           ({@link #HANDING_BACK}; the interrupted run does not count); LEASE_LOST records nothing,
 *           since the task is another run's now; CANCELED records nothing either: the cancel script
 *           ended the task and took the lease, and the task's {@code error} handler runs once from
 *           the kind's due list, not here;</li>
 *       <li>(rarely) with a retry Redis would not take for a lease period: nothing is recorded and
 *           the recoverer puts the task back once its lease expires, as for a worker that died.
 *           A run recording its retry is not handed back: the retry gives the task back itself.</li>
 *     </ul></li>
 * </ol>
 *
 * <p>The thread carrying the run makes every move up to {@code FINISHING}; the pump's answer (or
 * the thread recording the result alone) makes the moves after it. Only two moves come from
 * elsewhere, and both end the run early: a stopping worker hands back or leaves a run whose thread
 * ignored its interrupt ({@code HANDING_BACK}, {@code ENDED}; also the stopper of an abandoned
 * attempt when the stopped worker starts no thread to carry the run on). So a carrier thread that
 * finds its move refused knows the run was taken from it. A stop order is not a state: it is a lasting
 * order, given at any time, that the carrier thread obeys at its next step.
 */
enum RunState {
    FETCHED, RUNNING, RECORDING_RETRY, FINISHING, RECORDED, HANDLING, HANDING_BACK, ENDED;

    /*
     * The legal moves. Every state but ENDED may end; only the carrier's states before a retry or a
     * result may hand back.
     */
    static {
        FETCHED.allow(RUNNING, HANDING_BACK, ENDED);
        RUNNING.allow(RECORDING_RETRY, FINISHING, HANDING_BACK, ENDED);
        RECORDING_RETRY.allow(ENDED);
        FINISHING.allow(RECORDED, ENDED);
        RECORDED.allow(HANDLING, ENDED);
        HANDLING.allow(ENDED);
        HANDING_BACK.allow(ENDED);
    }

    /** Set once, by the static block above (an enum's own constants do not exist yet while it builds them). */
    private Set<RunState> next = Set.of();

    private void allow(RunState... to) {
        next = EnumSet.copyOf(List.of(to));
    }

    /** Whether the table allows the move from this state to {@code to}. */
    boolean canMoveTo(RunState to) {
        return next.contains(to);
    }

    /** Whether the run holds a slot in this state (it gives it back when its result goes to the pump, or at its end). */
    boolean holdsSlot() {
        return this == FETCHED || this == RUNNING || this == RECORDING_RETRY || this == HANDING_BACK;
    }

    /** Whether the result went to the pump: the lease is the result's to spend, not to hand back or lose. */
    boolean resultHandedOver() {
        return this == FINISHING || this == RECORDED || this == HANDLING;
    }

    /** Whether the heartbeat keeps the lease alive: until Redis has the result (or the run ended). */
    boolean holdsLease() {
        return this != RECORDED && this != HANDLING && this != ENDED;
    }

    /** The state of one run, moved only along the table; an illegal move is a bug and throws. */
    static final class Machine {
        private final AtomicReference<RunState> state = new AtomicReference<>(FETCHED);

        RunState get() {
            return state.get();
        }

        /**
         * Moves from {@code from} to {@code to}; false when the run is not in {@code from} (another
         * thread moved it first). Throws {@link IllegalStateException} when the table has no such move.
         */
        boolean transition(RunState from, RunState to) {
            if (!from.canMoveTo(to)) {
                throw new IllegalStateException("a run cannot move from " + from + " to " + to);
            }
            return state.compareAndSet(from, to);
        }

        /**
         * Moves to {@code to} from whatever state allows it; returns the state left, or null when the
         * current state does not allow the move (the run is already past it).
         */
        RunState moveTo(RunState to) {
            while (true) {
                RunState from = state.get();
                if (!from.canMoveTo(to)) {
                    return null;
                }
                if (state.compareAndSet(from, to)) {
                    return from;
                }
            }
        }
    }
}
