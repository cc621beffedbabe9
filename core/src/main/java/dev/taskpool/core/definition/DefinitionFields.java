package dev.taskpool.core.definition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import dev.taskpool.core.json.Json;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/** Reads the fields of one definition file, recording each problem with the file and field. */
final class DefinitionFields {
    static final Set<String> KNOWN_FIELDS = Set.of("name", "worker_nums", "attempts", "attempt_after",
            "timeout", "size", "process", "event", "keep", "description", "backoff", "partitions");
    static final Set<String> BACKOFF_FIELDS = Set.of("type", "max", "jitter");
    static final Set<String> KNOWN_EVENTS = Set.of("next", "add", "success", "error", "progress");
    /** A "$ENV.NAME" value: the environment variable NAME holds the number. */
    static final Pattern ENV_REFERENCE = Pattern.compile("\\$ENV\\.([A-Za-z_][A-Za-z0-9_]*)");
    /** A process name: dot-separated words, at least a group and a method. */
    private static final Pattern PROCESS_NAME = Pattern.compile("[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)+");
    private static final int MAX_NUMBER = 1_000_000_000;

    private final String source;
    private final JsonNode root;
    private final UnaryOperator<String> environment;
    private final List<String> problems;

    DefinitionFields(String source, JsonNode root, UnaryOperator<String> environment, List<String> problems) {
        this.source = source;
        this.root = root;
        this.environment = environment;
        this.problems = problems;
    }

    void rejectUnknown() {
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!KNOWN_FIELDS.contains(name) && !FlowControlFields.FIELDS.contains(name)) {
                problem(name, "unknown field; expected one of " + String.join(", ",
                        java.util.stream.Stream.concat(KNOWN_FIELDS.stream(), FlowControlFields.FIELDS.stream()).sorted().toList()));
            }
        }
    }

    String requiredString(String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            problem(field, "missing; expected a non-empty string");
            return null;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            problem(field, "expected a non-empty string, got " + describe(node));
            return null;
        }
        return node.asText();
    }

    String requiredProcess(String field) {
        String name = requiredString(field);
        return name == null ? null : checkProcessName(field, root.get(field));
    }

    int requiredInt(String field, int minimum) {
        Integer value = optionalInt(field, minimum);
        if (value == null && !root.has(field)) {
            problem(field, "missing; expected an integer of at least " + minimum);
        }
        return value == null ? 0 : value;
    }

    /**
     * {@code partitions}: 1 when absent, at most {@link TaskDefinition#MAX_PARTITIONS}, and no more
     * than {@code size}, {@code max_running} or the rate's {@code limit}, which are divided among
     * the partitions (a partition with a share of 0 could take or start nothing).
     */
    int partitions(int size, FlowControl flow) {
        Integer partitions = optionalInt("partitions", 1);
        if (partitions == null) {
            return 1;
        }
        if (partitions > TaskDefinition.MAX_PARTITIONS) {
            problem("partitions", "expected an integer from 1 to " + TaskDefinition.MAX_PARTITIONS + ", got " + partitions);
            return 1;
        }
        if (size > 0 && size < partitions) {
            problem("partitions", partitions + " is more than size " + size + ", which the partitions share");
        }
        if (flow.maxRunning() > 0 && flow.maxRunning() < partitions) {
            problem("partitions", partitions + " is more than max_running " + flow.maxRunning() + ", which the partitions share");
        }
        if (flow.rateLimit() > 0 && flow.rateLimit() < partitions) {
            problem("partitions", partitions + " is more than the rate's limit " + flow.rateLimit() + ", which the partitions share");
        }
        return partitions;
    }

    /** An integer field, or a "$ENV.NAME" string naming an environment variable that holds one. */
    Integer optionalInt(String field, int minimum) {
        JsonNode node = root.get(field);
        if (node == null) {
            return null;
        }
        String origin = "";
        JsonNode value = node;
        if (node.isTextual()) {
            var reference = ENV_REFERENCE.matcher(node.asText());
            if (!reference.matches()) {
                problem(field, "expected an integer or \"$ENV.NAME\", got " + describe(node));
                return null;
            }
            String variable = reference.group(1);
            String text = environment.apply(variable);
            if (text == null) {
                problem(field, "environment variable " + variable + " is not set; expected an integer of at least " + minimum);
                return null;
            }
            origin = " (from environment variable " + variable + ")";
            try {
                value = LongNode.valueOf(Long.parseLong(text.trim()));
            } catch (NumberFormatException e) {
                problem(field, "expected an integer" + origin + ", got \"" + text + "\"");
                return null;
            }
        }
        if (!value.isIntegralNumber() && !(value.isNumber() && value.asDouble() == Math.rint(value.asDouble()))) {
            problem(field, "expected an integer of at least " + minimum + ", got " + describe(node));
            return null;
        }
        long number = value.asLong();
        if (number < minimum || number > MAX_NUMBER) {
            problem(field, "expected an integer from " + minimum + " to " + MAX_NUMBER + origin + ", got " + number);
            return null;
        }
        return (int) number;
    }

    TaskEvents events() {
        JsonNode node = root.get("event");
        if (node == null || node.isNull()) {
            return TaskEvents.NONE;
        }
        if (!node.isObject()) {
            problem("event", "expected an object of event handlers (next, add, success, error, progress), got " + describe(node));
            return TaskEvents.NONE;
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!KNOWN_EVENTS.contains(name)) {
                problem("event." + name, "unknown event; expected one of add, error, next, progress, success");
            }
        }
        return new TaskEvents(handler(node, "next"), handler(node, "add"), handler(node, "success"),
                handler(node, "error"), handler(node, "progress"));
    }

    /**
     * The {@code backoff} field (see {@link Backoff}): absent, "fixed", "exponential", or an object
     * {@code {"type": "exponential", "max": 600000, "jitter": true}} ({@code max} and {@code jitter}
     * optional). {@code attemptAfter} is the definition's {@code attempt_after} in ms (null when that
     * field is itself wrong: then nothing is checked against it).
     */
    Backoff backoff(Integer attemptAfter) {
        JsonNode node = root.get("backoff");
        if (node == null || node.isNull()) {
            return Backoff.FIXED;
        }
        if (node.isTextual()) {
            Backoff.Type type = backoffType("backoff", node);
            return type == null ? null : backoffOf(type, null, false, attemptAfter);
        }
        if (!node.isObject()) {
            problem("backoff", "expected \"fixed\", \"exponential\" or an object such as {\"type\": \"exponential\","
                    + " \"max\": 600000, \"jitter\": true}, got " + describe(node));
            return null;
        }
        int before = problems.size();
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!BACKOFF_FIELDS.contains(name)) {
                problem("backoff." + name, "unknown field; expected type, max or jitter");
            }
        }
        JsonNode typeNode = node.get("type");
        Backoff.Type type = null;
        if (typeNode == null || typeNode.isNull()) {
            problem("backoff.type", "missing; expected \"fixed\" or \"exponential\"");
        } else {
            type = backoffType("backoff.type", typeNode);
        }
        Long max = null;
        JsonNode maxNode = node.get("max");
        if (maxNode != null && !maxNode.isNull()) {
            if (!maxNode.isIntegralNumber() && !(maxNode.isNumber() && maxNode.asDouble() == Math.rint(maxNode.asDouble()))) {
                problem("backoff.max", "expected a number of milliseconds (an integer from 1 to " + MAX_NUMBER + "), got "
                        + describe(maxNode));
            } else if (maxNode.asLong() < 1 || maxNode.asLong() > MAX_NUMBER) {
                problem("backoff.max", "expected a number of milliseconds from 1 to " + MAX_NUMBER + ", got " + maxNode.asLong());
            } else {
                max = maxNode.asLong();
            }
        }
        boolean jitter = false;
        JsonNode jitterNode = node.get("jitter");
        if (jitterNode != null && !jitterNode.isNull()) {
            if (!jitterNode.isBoolean()) {
                problem("backoff.jitter", "expected true or false, got " + describe(jitterNode));
            } else {
                jitter = jitterNode.asBoolean();
            }
        }
        if (type == Backoff.Type.FIXED && (node.has("max") || node.has("jitter"))) {
            problem("backoff", "a fixed backoff waits attempt_after every time: max and jitter apply to"
                    + " \"exponential\" only, got " + describe(node));
        }
        if (type == null || problems.size() > before) {
            return null;
        }
        return backoffOf(type, max, jitter, attemptAfter);
    }

    private Backoff.Type backoffType(String field, JsonNode node) {
        for (Backoff.Type type : Backoff.Type.values()) {
            if (node.isTextual() && type.fieldName().equals(node.asText())) {
                return type;
            }
        }
        problem(field, "unknown backoff; expected \"fixed\" or \"exponential\", got " + describe(node));
        return null;
    }

    private Backoff backoffOf(Backoff.Type type, Long max, boolean jitter, Integer attemptAfter) {
        if (type == Backoff.Type.FIXED) {
            return Backoff.FIXED;
        }
        if (attemptAfter == null) {
            return null;   // (attempt_after is wrong: its own problem says so)
        }
        if (attemptAfter == 0) {
            problem("backoff", "an exponential backoff doubles attempt_after, which is 0: give attempt_after the first"
                    + " wait in ms (at least 1), or use \"fixed\"");
            return null;
        }
        if (max != null && max < attemptAfter) {
            problem("backoff.max", "the cap " + max + " ms is shorter than attempt_after (" + attemptAfter
                    + " ms), the first wait; expected at least " + attemptAfter);
            return null;
        }
        long cap = max != null ? max : Math.max(Backoff.DEFAULT_MAX.toMillis(), attemptAfter);
        return Backoff.exponential(cap, jitter);
    }

    private String handler(JsonNode events, String event) {
        JsonNode node = events.get(event);
        if (node == null || node.isNull()) {
            return null;
        }
        String field = "event." + event;
        if (!node.isTextual() || node.asText().isBlank()) {
            problem(field, "expected a process name such as \"scripts.task.On" + capitalize(event) + "\", got " + describe(node));
            return null;
        }
        return checkProcessName(field, node);
    }

    private String checkProcessName(String field, JsonNode node) {
        String name = node.asText().trim();
        if (!PROCESS_NAME.matcher(name).matches()) {
            problem(field, "expected a process name such as \"scripts.task.Send\", got " + describe(node));
            return null;
        }
        return name;
    }

    private void problem(String field, String message) {
        problems.add(source + ": field \"" + field + "\": " + message);
    }

    private static String capitalize(String word) {
        return Character.toUpperCase(word.charAt(0)) + word.substring(1);
    }

    static String describe(JsonNode node) {
        return Json.describe(node);
    }
}
