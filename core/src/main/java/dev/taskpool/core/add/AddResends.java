package dev.taskpool.core.add;

import dev.taskpool.core.connect.RedisConnector;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Where asynchronous adds go on re-sending when their first send got no definite answer (see
 * {@link AddSender#settleAsync}): at most {@link #THREADS} threads of one connection re-send at a
 * time, each add's blocking loop on one of them, and at most {@link #MOST_WAITING} more adds wait
 * for a thread. So an outage that leaves many adds unanswered at once costs a bounded number of
 * threads and a bounded queue; an add that finds the queue full fails at once with an error that
 * says so (its outcome is unknown when its first send went out: settle it with retryAdd).
 *
 * <p>The threads are made when needed and end after 30 s without work. The owning
 * {@link RedisConnector} closes this with itself: adds still waiting fail, saying the client was
 * closed, and a re-send under way is interrupted (its add fails as unknown).
 */
final class AddResends implements AutoCloseable {
    /** The most threads that re-send adds of one connection at once. */
    static final int THREADS = 8;
    /** The most adds that wait for a re-sending thread. */
    static final int MOST_WAITING = 10_000;
    /** How the threads are named (a number follows). */
    static final String THREAD_PREFIX = "taskpool-add-resend-";
    private static final long IDLE_SECONDS = 30;

    /** One add's re-sends, and the future its caller holds. */
    private record Job<T>(Supplier<T> work, CompletableFuture<T> result, Function<String, RuntimeException> refusal)
            implements Runnable {
        @Override
        public void run() {
            try {
                result.complete(work.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }

        void refuse(String why) {
            result.completeExceptionally(refusal.apply(why));
        }
    }

    private final int threads;
    private final int mostWaiting;
    private final ThreadPoolExecutor executor;

    AddResends() {
        this(THREADS, MOST_WAITING);
    }

    AddResends(int threads, int mostWaiting) {
        this.threads = threads;
        this.mostWaiting = mostWaiting;
        this.executor = new ThreadPoolExecutor(threads, threads, IDLE_SECONDS, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(mostWaiting), Thread.ofPlatform().daemon().name(THREAD_PREFIX, 0).factory());
        executor.allowCoreThreadTimeOut(true);
    }

    /**
     * Runs {@code work} on a re-sending thread. When it cannot wait for one (the queue is full, or
     * this is closed), the future fails at once with {@code refusal} applied to a sentence saying why.
     */
    <T> CompletableFuture<T> submit(Supplier<T> work, Function<String, RuntimeException> refusal) {
        Job<T> job = new Job<>(work, new CompletableFuture<>(), refusal);
        try {
            executor.execute(job);
        } catch (RejectedExecutionException e) {
            job.refuse(executor.isShutdown() ? "the client was closed"
                    : mostWaiting + " adds already wait to be sent again by the " + threads + " re-sending thread"
                    + (threads == 1 ? "" : "s") + " of this connection while Redis does not answer");
        }
        return job.result();
    }

    @Override
    public void close() {
        List<Runnable> waiting = executor.shutdownNow();
        for (Runnable job : waiting) {
            ((Job<?>) job).refuse("the client was closed before it was sent again");
        }
    }
}
