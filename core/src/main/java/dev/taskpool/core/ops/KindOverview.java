package dev.taskpool.core.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;

/**
 * One kind's row of the {@link Overview}: its counts, or, when they cannot be read, why (e.g.
 * "taskpool:{mail}:waiting holds a string, expected a list"); exactly one of the two is set.
 */
public record KindOverview(String task, KindStats stats, String error) {
    static KindOverview read(KindStats stats) {
        return new KindOverview(stats.task(), stats, null);
    }

    static KindOverview broken(String task, String error) {
        return new KindOverview(task, null, error);
    }

    /** Its {@link KindStats} fields, or {@code {"task": T, "error": why}} when they could not be read. */
    public ObjectNode toJson() {
        return error == null ? Json.MAPPER.valueToTree(stats) : Json.NODES.objectNode().put("task", task).put("error", error);
    }
}
