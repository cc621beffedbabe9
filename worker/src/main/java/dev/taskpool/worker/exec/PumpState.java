package dev.taskpool.worker.exec;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the pump of one {@link TaskConsumer} knows and decides, apart from Redis and threads so
 * that it can be tested alone: free slots, round trips in flight, whether the queue may hold
 * tasks. {@link TaskConsumer#pump()} asks it what to send, sends it, and tells it what came back.
 * Every method is safe from any thread, and none blocks.
 *
 * <p>The invariants the pump keeps:
 * <ol>
 *   <li><b>Slots.</b> free slots + slots held by runs + slots claimed by round trips in flight
 *       = {@code worker_nums}. A round trip that fetches claims every free slot when it is
 *       prepared ({@link #planFetch}) and, when it comes back, gives back those it did not fill
 *       ({@link #fetched}, {@link #roundTripFailed}); each task fetched carries one slot into its
 *       run, which gives it back once ({@link #slotReleased}).</li>
 *   <li><b>Round trips in flight:</b> at most {@link #MAX_IN_FLIGHT}. A permit is held from
 *       {@link #tryStartRoundTrip} until the reply has been handled ({@link #endRoundTrip}); whoever
 *       gives one back pumps again afterwards.</li>
 *   <li><b>No stranded work.</b> Whoever makes work (queues a result, frees a slot, is woken up)
 *       pumps after the work is visible. That pump either sends it, or finds every permit taken,
 *       and then the holder of a permit, which gives it back later, pumps after that (2). A pump
 *       that found nothing to send gives its permit back and then looks once more
 *       ({@link #hasWork}): work made visible between its look and the give-back would otherwise
 *       wait for nobody.</li>
 *   <li><b>Fetch only when the queue may hold tasks, and never miss a wake-up.</b> The queue is
 *       believed empty only on the word of the newest information: each round trip is stamped when
 *       it is prepared, each wake-up when it arrives, from one counter, and an answer older than
 *       the belief it would replace is ignored. So an answer "the queue was empty" from a round
 *       trip prepared before a wake-up cannot undo that wake-up (a task would then wait for the
 *       waiter's next time-out, up to the idle block), nor a newer round trip's "there was more".
 *       The belief is one atomic word, so stamp and flag change together: no check-then-write.</li>
 *   <li><b>The waiter blocks on Redis only when nothing else will fetch</b>
 *       ({@link #shouldWaitForWork}): fetching, a slot free, no fetch wanted, nothing in flight.
 *       Any of these changing is followed by a pump (1–4), so a waiter that is asked and finds the
 *       condition gone may simply not block.</li>
 * </ol>
 */
final class PumpState {
    /** Round trips in flight at once: Redis works on one while the runs that end gather into the next. */
    static final int MAX_IN_FLIGHT = 2;

    /** A round trip's fetch: how many tasks to take, and the stamp of when that was decided. */
    record Fetch(int take, long stamp) {
        static final Fetch NONE = new Fetch(0, 0);
    }

    private final AtomicInteger freeSlots;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong stamps = new AtomicLong();
    /** (stamp of the information it rests on) << 1 | 1 when that information said the queue was empty. */
    private final AtomicLong queueBelief = new AtomicLong();   // stamp 0, not empty: look at start
    private volatile boolean fetching = true;

    PumpState(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("a task needs at least one slot (worker_nums), got " + slots);
        }
        this.freeSlots = new AtomicInteger(slots);
    }

    /** Takes a round-trip permit; false when {@link #MAX_IN_FLIGHT} are in flight (the first one back pumps again). */
    boolean tryStartRoundTrip() {
        while (true) {
            int now = inFlight.get();
            if (now >= MAX_IN_FLIGHT) {
                return false;
            }
            if (inFlight.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Gives a round-trip permit back (the reply was handled, or there was nothing to send); pump afterwards. */
    void endRoundTrip() {
        inFlight.decrementAndGet();
    }

    /**
     * The fetch of the round trip being prepared (with a permit held): every free slot when the
     * queue may hold tasks, or when results go anyway (a fetch then costs no extra round trip);
     * {@link Fetch#NONE} otherwise. The slots it takes are claimed until it comes back.
     */
    Fetch planFetch(boolean sendingResults) {
        if (!fetching || freeSlots.get() == 0 || !(fetchWanted() || sendingResults)) {
            return Fetch.NONE;
        }
        int take = freeSlots.getAndSet(0);   // (another pump may have claimed them first)
        if (take == 0) {
            return Fetch.NONE;
        }
        return new Fetch(take, stamps.incrementAndGet());
    }

    /** The round trip came back with {@code got} tasks: gives back the slots it did not fill; fewer than asked means the queue ran empty. */
    void fetched(Fetch fetch, int got) {
        if (got > fetch.take()) {
            throw new IllegalStateException("a fetch of " + fetch.take() + " returned " + got + " tasks");
        }
        freeSlots.addAndGet(fetch.take() - got);
        if (fetch.take() > 0) {
            believe(fetch.stamp(), got < fetch.take());
        }
    }

    /** The round trip failed: the slots it claimed are free again; what is known of the queue is unchanged. */
    void roundTripFailed(Fetch fetch) {
        freeSlots.addAndGet(fetch.take());
    }

    /** The waiter came back from Redis (a wake-up token, or its time was up): the queue may hold tasks. */
    void wokenUp() {
        believe(stamps.incrementAndGet(), false);
    }

    /** A run gave its slot back. */
    void slotReleased() {
        freeSlots.incrementAndGet();
    }

    /** Stops fetching for good (a graceful stop); results are still sent. */
    void stopFetching() {
        fetching = false;
    }

    boolean isFetching() {
        return fetching;
    }

    /** Whether the queue may hold tasks (nothing newer than the last wake-up or full fetch says it ran empty). */
    boolean fetchWanted() {
        return (queueBelief.get() & 1) == 0;
    }

    /** Whether there is something to send, for the look a pump takes after giving its permit back. */
    boolean hasWork(boolean resultsWaiting) {
        return resultsWaiting || (fetching && freeSlots.get() > 0 && fetchWanted());
    }

    /** Whether the waiter should block on Redis for work: nothing else will fetch. */
    boolean shouldWaitForWork() {
        return fetching && freeSlots.get() > 0 && !fetchWanted() && inFlight.get() == 0;
    }

    int freeSlots() {
        return freeSlots.get();
    }

    int inFlight() {
        return inFlight.get();
    }

    /** Replaces the belief about the queue with information stamped {@code stamp}, unless the belief rests on newer information. */
    private void believe(long stamp, boolean empty) {
        long replacement = stamp << 1 | (empty ? 1 : 0);
        queueBelief.accumulateAndGet(replacement, (belief, offered) -> (offered >>> 1) > (belief >>> 1) ? offered : belief);
    }
}
