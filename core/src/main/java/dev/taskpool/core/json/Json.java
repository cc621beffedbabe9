package dev.taskpool.core.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.taskpool.core.TaskpoolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The one place that turns values into JSON text and back. */
public final class Json {
    /** Strict JSON: task arguments, responses, event messages. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .build();

    /** JSON with comments and trailing commas, as task definition files allow. */
    public static final ObjectMapper JSONC = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(JsonReadFeature.ALLOW_YAML_COMMENTS)
            .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static final Pattern INTEGER_ARRAY =
            Pattern.compile("\\[\\s*(-?\\d{1,15}\\s*(,\\s*-?\\d{1,15}\\s*)*)?]");

    private Json() {
    }

    public static String write(Object value) {
        // The common small results, without the cost of a JSON generator.
        if (value == null) {
            return "null";
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Boolean || value instanceof Short) {
            return value.toString();
        }
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new TaskpoolException("cannot serialise " + value.getClass().getSimpleName()
                    + " to JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Parses an app file's JSON with comments (task definitions, schedules); a malformed text adds a
     * problem naming {@code source}, line and column, and returns null.
     */
    public static JsonNode readJsonc(String text, String source, List<String> problems) {
        try {
            return JSONC.readTree(text);
        } catch (JsonProcessingException e) {
            var location = e.getLocation();
            String where = location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
            problems.add(source + ": malformed JSON" + where + ": " + e.getOriginalMessage());
            return null;
        }
    }

    /** A value for an error message: its JSON type and its text, shortened to 60 characters. */
    public static String describe(JsonNode node) {
        String text = node.toString();
        String kind = node.isTextual() ? "string" : node.isNumber() ? "number" : node.isBoolean() ? "boolean"
                : node.isArray() ? "array" : node.isObject() ? "object" : "null";
        return kind + " " + (text.length() > 60 ? text.substring(0, 57) + "..." : text);
    }

    /** Parses strict JSON; {@code what} names the value in the error message. */
    public static JsonNode read(String text, String what) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new TaskpoolException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Task arguments (a JSON array) as plain Java values; {@code what} names the field in errors.
     * An array of integers, the common case, is read without a JSON parser.
     */
    @SuppressWarnings("unchecked")
    public static List<Object> readArgs(String text, String what) {
        if (text != null && text.length() < 64 && INTEGER_ARRAY.matcher(text).matches()) {
            String inner = text.substring(1, text.length() - 1).trim();
            List<Object> values = new ArrayList<>();
            if (!inner.isEmpty()) {
                for (String number : inner.split(",")) {
                    values.add(Long.parseLong(number.trim()));
                }
            }
            return values;
        }
        Object value;
        try {
            value = MAPPER.readValue(text == null ? "null" : text, Object.class);
        } catch (JsonProcessingException e) {
            throw new TaskpoolException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!(value instanceof List<?>)) {
            String kind = value == null ? "null" : value instanceof Map<?, ?> ? "object"
                    : value instanceof String ? "string" : value instanceof Number ? "number" : "boolean";
            throw new TaskpoolException(what + " must hold a JSON array, got " + kind);
        }
        return (List<Object>) value;
    }

    /** A JSON node as a plain Java value (Map, List, String, Long, Double, Boolean or null). */
    public static Object toJava(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode() ? null : MAPPER.convertValue(node, Object.class);
    }

    public static JsonNode toNode(Object value) {
        return MAPPER.valueToTree(value);
    }
}
