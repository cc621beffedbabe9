package dev.taskpool.client;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.lua.Keys;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The Java stand-ins a client was given for tasks' script {@code event.next} and {@code event.add}
 * handlers, which a thin client cannot run; an add of a task whose definition names such a script
 * without a stand-in is refused, saying what to do.
 */
final class JavaAddHandlers {
    /** One task's stand-ins; either may be null (the counter in Redis; nothing after the add). */
    record Of(LongSupplier ids, LongConsumer onAdded) {
        /** The id {@code event.next} gives, or null for the counter in Redis. */
        Long nextId() {
            return ids == null ? null : ids.getAsLong();
        }

        void added(long id) {
            if (onAdded != null) {
                onAdded.accept(id);
            }
        }
    }

    private final Map<String, LongSupplier> idSuppliers = new ConcurrentHashMap<>();
    private final Map<String, LongConsumer> addHandlers = new ConcurrentHashMap<>();

    void idSupplier(String task, LongSupplier supplier) {
        idSuppliers.put(Keys.of(task).task(), supplier);
    }

    void onAdded(String task, LongConsumer handler) {
        addHandlers.put(Keys.of(task).task(), handler);
    }

    /** The stand-ins of {@code task}, without checking its definition (a re-sent add was checked when made). */
    Of of(String task) {
        return new Of(idSuppliers.get(task), addHandlers.get(task));
    }

    /**
     * The stand-ins of {@code task}, refusing an add that needs a script this client cannot run
     * ({@code event.next}, {@code event.add}) when no Java handler stands in for it.
     */
    Of forAdd(String task, Map<String, String> definition) {
        Of handlers = of(task);
        String nextScript = definition.get("event.next");
        if (nextScript != null && handlers.ids() == null) {
            throw new TaskpoolException("task " + task + " takes its ids from event.next = " + nextScript
                    + ", a script this Java client cannot run: pass an id supplier with withIdSupplier(\"" + task
                    + "\", ...) or add the task through a runtime (taskpool run tasks." + task + ".add ...)");
        }
        String addScript = definition.get("event.add");
        if (addScript != null && handlers.onAdded() == null) {
            throw new TaskpoolException("task " + task + " runs event.add = " + addScript
                    + " after each add, a script this Java client cannot run: pass a handler with onAdded(\"" + task
                    + "\", ...) or add the task through a runtime (taskpool run tasks." + task + ".add ...)");
        }
        return handlers;
    }
}
