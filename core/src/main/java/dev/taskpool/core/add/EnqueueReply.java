package dev.taskpool.core.add;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.lua.ScriptReply;
import dev.taskpool.core.redis.AddRequest;
import java.util.ArrayList;
import java.util.List;

/** What the enqueue script answered one add request: its ids, or the refusal it stands for. */
final class EnqueueReply {
    private EnqueueReply() {
    }

    /**
     * The script's reply: ids (a duplicate's negated: the id of the task that holds its key), or a
     * refusal code mapped to an error naming what was wrong.
     */
    static List<Long> decode(AddRequest request, List<Object> reply) {
        String task = request.task();
        Object first = reply.getFirst();
        if (first instanceof Long code) {
            String nothing = "; the add was refused and nothing was written";
            return switch (ScriptReply.of(code)) {
                case QUEUE_FULL -> List.of();
                case UNKNOWN_TASK -> throw AddStore.unknownTask(task);
                case ID_TAKEN -> throw new TaskpoolException("task " + task + ": id " + reply.get(1)
                        + " already exists; an add never overwrites a task (check event.next)" + nothing);
                case WRONG_TYPE -> throw new TaskpoolException("task " + task + ": key " + reply.get(1) + " holds " + reply.get(2)
                        + ", expected " + reply.get(3) + nothing + " (repair or delete that key)");
                case NEXT_ID_TAKEN -> throw new TaskpoolException("task " + task + ": the id counter " + Keys.of(task).sequence()
                        + " is behind the tasks: the next id, " + reply.get(1) + ", is taken by " + Keys.of(task).taskPrefix()
                        + reply.get(1) + nothing + " (set the counter to the highest id in use)");
                case IDS_EXHAUSTED -> throw new TaskpoolException("task " + task + ": the id counter " + Keys.of(task).sequence()
                        + " is at " + reply.get(1) + ", so " + reply.get(2) + " more default id(s) would pass the last"
                        + " id, 2^53-1 (9007199254740991)" + nothing + " (give ids with event.next, or reset the"
                        + " counter once the old tasks are gone)");
                default -> throw new IllegalStateException("enqueue returned " + reply);
            };
        }
        // A duplicate (its unique key is held) comes as "=<id of the task holding it>": carried on
        // negated, and turned back into a positive id with a duplicate flag by AddResult.ofReplyId.
        List<Long> ids = new ArrayList<>(reply.size());
        for (Object id : reply) {
            String text = (String) id;
            ids.add(text.startsWith("=") ? -Long.parseLong(text.substring(1)) : Long.parseLong(text));
        }
        return ids;
    }
}
