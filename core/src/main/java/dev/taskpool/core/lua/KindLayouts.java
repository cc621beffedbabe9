package dev.taskpool.core.lua;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.connect.RedisConnector;
import io.lettuce.core.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The {@link KindLayout} of each kind as this process last read it from the kind's definition
 * hash, kept {@link #FRESH_FOR_MILLIS} ms so that an add reads nothing more. A layout older than
 * that is read again in the background when it is next asked for (the callers keep using the old
 * one meanwhile). A stale layout is safe: a partition once made is served until it is empty, so a
 * process that still adds to a partition a lower {@code partitions} no longer counts loses
 * nothing, and one that has not yet seen a higher one adds to fewer partitions for a moment.
 */
public final class KindLayouts {
    /** How long a layout read from Redis is used before it is read again. */
    public static final long FRESH_FOR_MILLIS = 5_000;
    private static final List<String> FIELDS = List.of(KindLayout.NAMES_FIELD, KindLayout.ADDING_FIELD, "unique_by");

    /** A layout, whether the kind is unique by its arguments, and when it was read (nanoTime). */
    public record Entry(KindLayout layout, boolean uniqueByArgs, long readAt) {
    }

    private final RedisConnector redis;
    private final RedisCalls calls;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    /** The next partition of each kind a plain add goes to. */
    private final Map<String, AtomicInteger> turns = new ConcurrentHashMap<>();
    /** The steps waiting, in order, for a kind's first read ({@link #withEntry}): each takes the entry or the failure. */
    private final Map<String, List<Consumer<Object>>> waiting = new HashMap<>();
    /** The kinds whose layout is being read again in the background. */
    private final Set<String> refreshing = ConcurrentHashMap.newKeySet();

    public KindLayouts(RedisConnector redis) {
        this.redis = redis;
        this.calls = new RedisCalls(redis);
    }

    /** The kind's layout, read from Redis when this process has none younger than {@link #FRESH_FOR_MILLIS}. */
    public KindLayout of(String kind) {
        return entry(kind).layout();
    }

    /**
     * As {@link #of}, with whether the kind is unique by its arguments. Only the first call for a
     * kind waits for Redis; an older entry is read again in the background while it is used.
     */
    public Entry entry(String kind) {
        Entry entry = entries.get(kind);
        if (entry == null) {
            entry = read(kind);
            entries.put(kind, entry);
        } else if (System.nanoTime() - entry.readAt() > FRESH_FOR_MILLIS * 1_000_000 && refreshing.add(kind)) {
            readAsync(kind).whenComplete((fresh, error) -> {
                refreshing.remove(kind);
                if (fresh != null) {
                    entries.put(kind, fresh);
                }   // (a failed read: the old entry is used, and read again at the next call)
            });
        }
        return entry;
    }

    /**
     * Runs {@code next} with the kind's entry, as {@link #entry} gives it, without holding the
     * calling thread when the kind has not been read yet (an asynchronous add may be made on
     * Lettuce's I/O thread, which must never wait for Redis). The steps of callers that ask while
     * the first read is out run in the order they asked, each before the next (an asynchronous add
     * sends its request in its step, so adds made one after the other reach Redis in that order).
     */
    public <T> CompletableFuture<T> withEntry(String kind, Function<Entry, CompletableFuture<T>> next) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Consumer<Object> step = outcome -> {
            if (outcome instanceof Entry entry) {
                CompletableFuture<T> started;
                try {
                    started = next.apply(entry);
                } catch (RuntimeException e) {
                    started = CompletableFuture.failedFuture(e);
                }
                started.whenComplete((value, error) -> {
                    if (error != null) {
                        result.completeExceptionally(error);
                    } else {
                        result.complete(value);
                    }
                });
            } else {
                result.completeExceptionally((Throwable) outcome);
            }
        };
        boolean first;
        synchronized (waiting) {
            List<Consumer<Object>> queue = waiting.get(kind);
            if (queue == null && entries.containsKey(kind)) {
                first = false;
            } else if (queue != null) {
                queue.add(step);
                return result;
            } else {
                waiting.put(kind, new ArrayList<>(List.of(step)));
                first = true;
            }
        }
        if (!first) {
            step.accept(entry(kind));
            return result;
        }
        // (the steps run off Lettuce's I/O thread, where an add's first send cannot always be made)
        readAsync(kind).whenCompleteAsync((read, error) -> {
            Object outcome = read;
            if (error != null) {
                Throwable cause = RedisCalls.unwrap(error);
                outcome = RedisCalls.repliedWith(cause, "WRONGTYPE")
                        ? new Entry(KindLayout.single(kind), false, System.nanoTime())   // (the add names the broken key)
                        : calls.failure(cause, "read the partitions of task " + kind);
            }
            // In the order asked; callers that ask meanwhile join the end of the queue, so none overtakes an earlier one.
            while (true) {
                Consumer<Object> waiter;
                synchronized (waiting) {
                    List<Consumer<Object>> queue = waiting.get(kind);
                    if (queue.isEmpty()) {
                        waiting.remove(kind);
                        if (outcome instanceof Entry entry) {
                            entries.putIfAbsent(kind, entry);
                        }
                        break;
                    }
                    waiter = queue.removeFirst();
                }
                waiter.accept(outcome);
            }
        }, ForkJoinPool.commonPool());
        return result;
    }

    /** The kind's layout as Redis holds it now (also kept for {@link #of}). */
    public KindLayout fresh(String kind) {
        Entry entry = read(kind);
        entries.put(kind, entry);
        return entry.layout();
    }

    /** The layout this process last read for {@code kind}, without asking Redis; empty if none. */
    public Optional<KindLayout> cached(String kind) {
        return Optional.ofNullable(entries.get(kind)).map(Entry::layout);
    }

    /** Forgets what this process read of {@code kind} (its definition was just published). */
    public void forget(String kind) {
        entries.remove(kind);
    }

    /** The partition the next plain add of {@code kind} goes to: each of its adding partitions in turn. */
    public int nextTurn(String kind, KindLayout layout) {
        if (layout.adding() == 1) {
            return 0;
        }
        return Math.floorMod(turns.computeIfAbsent(kind, ignored -> new AtomicInteger()).getAndIncrement(), layout.adding());
    }

    private Entry read(String kind) {
        String key = Keys.of(kind).definition();
        List<KeyValue<String, String>> values;
        try {
            values = calls.await(redis.async().hmget(key, FIELDS.toArray(String[]::new)).toCompletableFuture(),
                    "read the partitions of task " + kind);
        } catch (TaskpoolException e) {
            if (RedisCalls.repliedWith(e, "WRONGTYPE")) {
                return new Entry(KindLayout.single(kind), false, System.nanoTime());   // (the add names the broken key)
            }
            throw e;
        }
        return entryOf(kind, values);
    }

    private CompletableFuture<Entry> readAsync(String kind) {
        try {
            return redis.async().hmget(Keys.of(kind).definition(), FIELDS.toArray(String[]::new)).toCompletableFuture()
                    .thenApply(values -> entryOf(kind, values));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Entry entryOf(String kind, List<KeyValue<String, String>> values) {
        Map<String, String> fields = new HashMap<>();
        for (var value : values) {
            if (value.hasValue()) {
                fields.put(value.getKey(), value.getValue());
            }
        }
        return new Entry(KindLayout.fromDefinition(kind, fields), "args".equals(fields.get("unique_by")), System.nanoTime());
    }
}
