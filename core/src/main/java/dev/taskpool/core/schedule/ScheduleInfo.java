package dev.taskpool.core.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.json.Json;

/**
 * A schedule as Redis knows it: its definition from the registry and its state.
 *
 * @param task        the kind each firing adds; null for a process schedule
 * @param process     the process each firing runs; null for a task schedule
 * @param args        the JSON array as stored, {@code $ENV} references unresolved
 * @param missed      {@code skip}, {@code once} or {@code all}
 * @param nextFireAt  epoch ms of the next firing; 0 when there is none (stopped, or never again)
 * @param lastFireAt  epoch ms of the slot (or trigger) last fired; 0 never
 * @param lastTaskId  the task the last firing added; 0 none
 * @param lastError   why the last firing made no task (queue full, overlap, ...); null when it did; for
 *                    an entry that is not {@code readable}, why it could not be read
 * @param source      {@code app} (published from schedule files by a worker) or {@code client}
 * @param readable    false when the registry entry or the state hash could not be read (written by
 *                    hand, or of the wrong type): the other fields are then what could be known
 */
public record ScheduleInfo(String id, String name, String cron, String timezone, String task, String process, String args,
        String missed, boolean overlap, boolean stopped, long nextFireAt, long lastFireAt, long lastTaskId, String lastError,
        String source, boolean readable) {

    /**
     * As {@code taskpool schedules --json} and the dashboard's API give it: every field, with
     * {@code args} as JSON rather than the text stored (the text itself when it is no JSON).
     */
    public ObjectNode toJson() {
        ObjectNode node = Json.MAPPER.valueToTree(this);
        node.set("args", parsedArgs());
        return node;
    }

    private JsonNode parsedArgs() {
        if (args == null) {
            return Json.NODES.arrayNode();
        }
        try {
            return Json.read(args, "args");
        } catch (TaskpoolException e) {
            return Json.NODES.textNode(args);   // shown as stored rather than not at all
        }
    }
}
