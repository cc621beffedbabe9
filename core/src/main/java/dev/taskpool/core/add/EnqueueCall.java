package dev.taskpool.core.add;

import dev.taskpool.core.lua.EventMode;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.NewTask;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys and arguments of one call of the enqueue script ({@code enqueue-10.lua}): one or more
 * add requests of one task kind, each with its own request id, time, {@code size} admission and
 * tasks. The script answers each request on its own, in the order added here.
 */
final class EnqueueCall {
    private final List<String> args;

    /**
     * @param task          the task kind
     * @param keys          its keys
     * @param memoryMillis  how long Redis remembers each request id, ms
     * @param expectedTasks how many tasks the call will carry, to size its argument list
     * @param eventMode     {@link EventMode}'s argument: 'heard', 'all', 'sharded' or 'sharded-all'
     */
    EnqueueCall(String task, Keys keys, String memoryMillis, int expectedTasks, String eventMode) {
        args = new ArrayList<>(5 + expectedTasks * 9);
        args.add(task);
        args.add(keys.eventsPrefix());
        args.add(memoryMillis);
        args.add(eventMode);
        args.add(keys.kindEvents());
    }

    /** The script's ten keys for {@code keys}' kind (the request records' and unique keys' prefixes among them). */
    static String[] keys(Keys keys) {
        return new String[] {keys.definition(), keys.sequence(), keys.waiting(), keys.wake(), keys.taskPrefix(),
                keys.requestPrefix(), keys.stats(), keys.delayed(), keys.flow(), keys.uniquePrefix()};
    }

    /**
     * Adds a request: {@code items} (of {@code request}) under {@code requestId}, created at
     * {@code now}, with the request's due time, unique key and priority; {@code admit} tasks must
     * fit within {@code size} (0: no check).
     */
    EnqueueCall request(String requestId, long now, AddRequest request, int admit, List<NewTask> items) {
        return request(requestId, now, request.dueAt(), request.priority(), request.key(), admit, items);
    }

    /** As {@link #request(String, long, AddRequest, int, List)}, due at {@code dueAt}, with no key, at priority 0. */
    EnqueueCall request(String requestId, long now, long dueAt, int admit, List<NewTask> items) {
        return request(requestId, now, dueAt, 0, null, admit, items);
    }

    private EnqueueCall request(String requestId, long now, long dueAt, int priority, String key, int admit,
                                List<NewTask> items) {
        args.add(requestId);
        args.add(Long.toString(now));
        args.add(Long.toString(dueAt));
        args.add(Integer.toString(admit));
        args.add(Integer.toString(priority));
        args.add(key == null ? "" : key);
        args.add(Integer.toString(items.size()));
        for (NewTask item : items) {
            args.add(item.id() == null ? "" : Long.toString(item.id()));
            args.add(item.argsJson());
        }
        return this;
    }

    String[] args() {
        return args.toArray(String[]::new);
    }
}
