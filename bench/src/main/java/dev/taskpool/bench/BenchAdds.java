package dev.taskpool.bench;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.redis.AddResult;
import dev.taskpool.core.redis.NewTask;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** The benchmark's enqueue phase, timed: batch adds, one add per call from many threads, or async adds from one. */
final class BenchAdds {
    /** Tasks per batch add (one enqueue script call, its largest chunk). */
    static final int BATCH = 1000;

    private BenchAdds() {
    }

    /** Adds {@code count} tasks in batch adds of {@link #BATCH} (with the options {@code flow} gives each batch), and times it. */
    static double bulk(AddStore store, String task, int count, BenchFlow flow) {
        long start = System.nanoTime();
        for (int from = 0; from < count; from += BATCH) {
            List<NewTask> batch = new ArrayList<>(BATCH);
            for (int i = from; i < Math.min(count, from + BATCH); i++) {
                batch.add(new NewTask(null, "[" + i + "]"));
            }
            if (store.addAll(task, batch, flow.batchOptions(from / BATCH), System.currentTimeMillis()).size() != batch.size()) {
                throw new TaskpoolException("the benchmark queue refused a batch");
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Adds {@code count} tasks one per {@code TaskpoolClient.add} call, from {@code --in-flight}
     * threads (platform threads, or virtual ones for {@code --adds virtual}) that each add in a loop (so that many calls are in flight at once), and times it from
     * when they all start to when the last add returned. Add number i has the options {@code flow}
     * gives it (a key of its own, a priority).
     */
    static double oneByOne(TaskpoolClient client, String task, int count, Bench.Adds adds, int inFlight, BenchFlow flow)
            throws InterruptedException {
        if (adds == Bench.Adds.ASYNC) {
            return async(client, task, count, inFlight, flow);
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (int c = 0; c < Math.min(inFlight, count); c++) {
            Thread.Builder caller = adds == Bench.Adds.VIRTUAL ? Thread.ofVirtual() : Thread.ofPlatform();
            callers.add(caller.name("bench-adder-" + c).start(() -> {
                try {
                    go.await();
                    for (int i = next.getAndIncrement(); i < count && failure.get() == null; i = next.getAndIncrement()) {
                        added(client.addWith(task, flow.addOptions(i), i), task, i);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread caller : callers) {
            caller.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failure.get() != null) {
            throw new TaskpoolException("a single add of the benchmark failed: " + failure.get().getMessage(), failure.get());
        }
        return seconds;
    }

    /** Adds {@code count} tasks one per {@code TaskpoolClient.addAsync} call, from this thread, {@code --in-flight} at once. */
    private static double async(TaskpoolClient client, String task, int count, int inFlight, BenchFlow flow) throws InterruptedException {
        Semaphore slots = new Semaphore(inFlight);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < count && failure.get() == null; i++) {
            slots.acquire();
            int number = i;
            client.addWithAsync(task, flow.addOptions(i), i).whenComplete((result, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                } else {
                    try {
                        added(result, task, number);
                    } catch (TaskpoolException e) {
                        failure.compareAndSet(null, e);
                    }
                }
                slots.release();
            });
        }
        slots.acquire(inFlight);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failure.get() != null) {
            throw new TaskpoolException("an asynchronous add of the benchmark failed: " + failure.get().getMessage(), failure.get());
        }
        return seconds;
    }

    /** Checks that add number {@code i} made a task: the queue took it, and its key (if any) was free. */
    private static void added(AddResult result, String task, int i) {
        if (result.isQueueFull()) {
            throw new TaskpoolException("the benchmark queue refused task " + i + " of " + task + " as full");
        }
        if (result.duplicate()) {
            throw new TaskpoolException("task " + i + " of " + task + " was refused as a duplicate of #" + result.id());
        }
    }
}
