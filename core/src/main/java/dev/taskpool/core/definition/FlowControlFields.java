package dev.taskpool.core.definition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Reads a definition's flow controls ({@code max_running}, {@code rate}, {@code unique}), recording
 * each problem with the file and the field, as {@link DefinitionFields} does for the others.
 */
final class FlowControlFields {
    static final Set<String> FIELDS = Set.of("max_running", "rate", "unique");
    private static final Set<String> RATE_FIELDS = Set.of("limit", "per");
    private static final Set<String> UNIQUE_FIELDS = Set.of("by", "for");

    private final String source;
    private final JsonNode root;
    private final UnaryOperator<String> environment;
    private final List<String> problems;

    FlowControlFields(String source, JsonNode root, UnaryOperator<String> environment, List<String> problems) {
        this.source = source;
        this.root = root;
        this.environment = environment;
        this.problems = problems;
    }

    /** The controls, or {@link FlowControl#NONE} when none is given; null when one is wrong (a problem was recorded). */
    FlowControl read() {
        int before = problems.size();
        int maxRunning = 0;
        JsonNode cap = root.get("max_running");
        if (cap != null && !cap.isNull()) {
            maxRunning = (int) whole("max_running", cap, 1, FlowControl.MAX_LIMIT);
        }
        int rateLimit = 0;
        Duration ratePer = Duration.ZERO;
        JsonNode rate = root.get("rate");
        if (rate != null && !rate.isNull()) {
            if (!rate.isObject()) {
                problem("rate", "expected an object such as {\"limit\": 100, \"per\": 1} (starts per seconds), got "
                        + DefinitionFields.describe(rate));
            } else {
                unknown("rate", rate, RATE_FIELDS);
                JsonNode limit = rate.get("limit");
                JsonNode per = rate.get("per");
                if (limit == null || per == null) {
                    problem("rate", "expected both limit (starts) and per (seconds), such as {\"limit\": 100, \"per\": 1}");
                } else {
                    rateLimit = (int) whole("rate.limit", limit, 1, FlowControl.MAX_LIMIT);
                    ratePer = seconds("rate.per", per, 0.001);
                }
            }
        }
        boolean byArgs = false;
        Duration uniqueFor = Duration.ZERO;
        JsonNode unique = root.get("unique");
        if (unique != null && !unique.isNull()) {
            if (!unique.isObject()) {
                problem("unique", "expected an object such as {\"by\": \"args\", \"for\": 60}, got " + DefinitionFields.describe(unique));
            } else {
                unknown("unique", unique, UNIQUE_FIELDS);
                JsonNode by = unique.get("by");
                if (by != null && !by.isNull()) {
                    if (by.isTextual() && by.asText().equals("args")) {
                        byArgs = true;
                    } else {
                        problem("unique.by", "expected \"args\" (every add is unique by its arguments), got "
                                + DefinitionFields.describe(by));
                    }
                }
                JsonNode keepFor = unique.get("for");
                if (keepFor != null && !keepFor.isNull()) {
                    uniqueFor = seconds("unique.for", keepFor, 0);
                }
            }
        }
        if (problems.size() > before) {
            return null;
        }
        if (maxRunning == 0 && rateLimit == 0 && !byArgs && uniqueFor.isZero()) {
            return FlowControl.NONE;
        }
        return new FlowControl(maxRunning, rateLimit, ratePer, byArgs, uniqueFor);
    }

    private void unknown(String field, JsonNode object, Set<String> known) {
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                problem(field + "." + name, "unknown field; expected " + String.join(" or ", known.stream().sorted().toList()));
            }
        }
    }

    /**
     * A number, or a "$ENV.NAME" string naming an environment variable that holds one (as every
     * numeric field of a definition may be); null when neither (a problem was recorded).
     */
    private JsonNode number(String field, JsonNode node) {
        if (!node.isTextual()) {
            return node;
        }
        var reference = DefinitionFields.ENV_REFERENCE.matcher(node.asText());
        if (!reference.matches()) {
            return node;   // (refused by the caller, naming the value)
        }
        String text = environment.apply(reference.group(1));
        if (text == null) {
            problem(field, "environment variable " + reference.group(1) + " is not set; expected a number");
            return null;
        }
        try {
            return DoubleNode.valueOf(Double.parseDouble(text.trim()));
        } catch (NumberFormatException e) {
            problem(field, "expected a number (from environment variable " + reference.group(1) + "), got \"" + text + "\"");
            return null;
        }
    }

    private long whole(String field, JsonNode given, long minimum, long maximum) {
        JsonNode node = number(field, given);
        if (node == null) {
            return 0;
        }
        if (!node.isNumber() || node.asDouble() != Math.rint(node.asDouble()) || node.asDouble() < minimum
                || node.asDouble() > maximum) {
            problem(field, "expected an integer from " + minimum + " to " + maximum + ", got " + DefinitionFields.describe(node));
            return 0;
        }
        return node.asLong();
    }

    /** A number of seconds (decimals allowed, to the ms) from {@code minimum} to a day. */
    private Duration seconds(String field, JsonNode given, double minimum) {
        JsonNode node = number(field, given);
        if (node == null) {
            return Duration.ZERO;
        }
        long most = FlowControl.MAX_WINDOW.toSeconds();
        if (!node.isNumber() || node.asDouble() < minimum || node.asDouble() > most) {
            problem(field, "expected a number of seconds from " + (minimum == 0 ? "0" : minimum) + " to " + most + ", got "
                    + DefinitionFields.describe(node));
            return Duration.ZERO;
        }
        return Duration.ofMillis(Math.round(node.asDouble() * 1000));
    }

    private void problem(String field, String message) {
        problems.add(source + ": field \"" + field + "\": " + message);
    }
}
