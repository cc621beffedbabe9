package dev.taskpool.core.ops;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import java.util.List;

/**
 * What an operator sees first: a row per kind (its counts, or why they cannot be read), the live
 * workers, and the problems that belong to no kind row (a presence entry skipped, the list of kinds
 * or of workers unreadable). Something broken by hand in one place hides nothing else.
 */
public record Overview(List<KindOverview> kinds, List<WorkerInfo> workers, List<String> problems) {
    public Overview {
        kinds = List.copyOf(kinds);
        workers = List.copyOf(workers);
        problems = List.copyOf(problems);
    }

    /** Whether everything could be read: no kind row with an error, no problem. */
    public boolean complete() {
        return problems.isEmpty() && kinds.stream().allMatch(kind -> kind.error() == null);
    }

    /**
     * {@code {"kinds": [...], "workers": [...], "problems": [...]}}: a kind that was read is its
     * {@link KindStats} fields; one that was not is {@code {"task": T, "error": why}}.
     */
    public ObjectNode toJson() {
        ObjectNode root = Json.NODES.objectNode();
        ArrayNode kindNodes = root.putArray("kinds");
        kinds.forEach(kind -> kindNodes.add(kind.toJson()));
        root.set("workers", Json.MAPPER.valueToTree(workers));
        ArrayNode problemNodes = root.putArray("problems");
        problems.forEach(problemNodes::add);
        return root;
    }
}
