package dev.taskpool.core.json;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.taskpool.core.TaskpoolException;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The one place that turns values into JSON text and back. */
public final class Json {
    /**
     * Strict JSON: task arguments, responses, event messages. Plain values (Map, List, String,
     * numbers, booleans) are written as Jackson always wrote them; records and beans by their
     * properties; {@code java.time} values as ISO-8601 text ({@code "2025-03-01T09:30:00Z"},
     * {@code "2025-03-01"}, {@code "PT1M30S"}), which a script reads as readily as a person does;
     * an {@code Optional} as its value or null. {@code java.util.Date} and {@code Calendar} stay
     * numbers of epoch milliseconds, as they were before java.time was known here, so that the
     * arguments of an add made with one do not change shape. An offset date-time read back keeps
     * its offset (not moved to UTC), so that it equals the value written.
     */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .addModule(new JavaTimeModule())
            .addModule(new Jdk8Module())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .withConfigOverride(Date.class, epochMillis -> epochMillis.setFormat(JsonFormat.Value.forShape(JsonFormat.Shape.NUMBER)))
            .withConfigOverride(java.sql.Date.class, epochMillis -> epochMillis.setFormat(JsonFormat.Value.forShape(JsonFormat.Shape.NUMBER)))
            .withConfigOverride(Calendar.class, epochMillis -> epochMillis.setFormat(JsonFormat.Value.forShape(JsonFormat.Shape.NUMBER)))
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
        return write(value, value == null ? "null" : value.getClass().getSimpleName());
    }

    /** As {@link #write(Object)}; {@code what} names the value in the error (e.g. "the arguments of task mail.send"). */
    public static String write(Object value, String what) {
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
            throw new TaskpoolException("cannot serialise " + what + " to JSON" + where(e) + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * A plain value (as task arguments and responses are read: Map, List, String, Long, Double,
     * Boolean, null, or a {@link JsonNode}) as a value of {@code type}, e.g. a record, a
     * {@code List<Receipt>}, an {@code Instant} from its ISO-8601 text. What this mapper wrote, it
     * reads back equal. Null stays null (an empty Optional for an Optional), except for a
     * primitive type, which has no null.
     *
     * @throws TaskpoolException naming the type and what did not fit (e.g. a missing or unknown
     *                           property, text where a number belongs, and where in the value)
     */
    public static Object convert(Object value, Type type) {
        JavaType target = MAPPER.constructType(type);
        if (value == null || value instanceof JsonNode node && (node.isNull() || node.isMissingNode())) {
            if (target.isPrimitive()) {
                throw new TaskpoolException("cannot convert null to " + target.getRawClass().getName()
                        + ": a primitive has no null (use its wrapper type to allow one)");
            }
            return nullOf(target);
        }
        try {
            return MAPPER.convertValue(value, target);
        } catch (IllegalArgumentException e) {
            Throwable reason = e.getCause() instanceof JsonProcessingException jackson ? jackson : e;
            String text = reason instanceof JsonProcessingException jackson ? jackson.getOriginalMessage() : reason.getMessage();
            throw new TaskpoolException("cannot convert " + describe(value) + " to " + type.getTypeName()
                    + (reason instanceof JsonMappingException mapping ? where(mapping) : "") + ": " + firstLine(text), e);
        }
    }

    /** Null as the type's deserializer has it: an empty Optional for an Optional, else null. */
    private static Object nullOf(JavaType target) {
        try {
            return MAPPER.readValue("null", target);
        } catch (JsonProcessingException e) {
            throw new TaskpoolException("cannot convert null to " + target.toCanonical() + ": " + firstLine(e.getOriginalMessage()), e);
        }
    }

    /** As {@link #convert(Object, Type)}, typed by a class. */
    public static <T> T convert(Object value, Class<T> type) {
        @SuppressWarnings("unchecked")
        T converted = (T) convert(value, (Type) type);
        return converted;
    }

    /**
     * A value as a processor or script reads it back from the task: Map, List, String, Long,
     * Double (BigInteger or BigDecimal past those), Boolean or null. A record becomes a Map of its
     * components, an Instant its ISO-8601 text, an int a Long. It goes through the JSON text a task
     * stores rather than Jackson's token buffer, which would hand back a byte[] or a BigDecimal as
     * it is: what this returns is exactly what a worker would see.
     *
     * @throws TaskpoolException when the value cannot be written as JSON, naming its type and where
     */
    public static Object plain(Object value) {
        if (value == null || value instanceof String || value instanceof Long || value instanceof Boolean) {
            return value;
        }
        try {
            return MAPPER.readValue(write(value), Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("JSON written by the mapper did not read back: " + e.getOriginalMessage(), e);
        }
    }

    /** Where in a value a mapping failed, as {@code " at [0].at"}; empty when Jackson gave no path. */
    private static String where(JsonProcessingException e) {
        if (!(e instanceof JsonMappingException mapping) || mapping.getPath().isEmpty()) {
            return "";
        }
        StringBuilder path = new StringBuilder(" at ");
        for (JsonMappingException.Reference step : mapping.getPath()) {
            if (step.getFieldName() != null) {
                path.append(path.length() > 4 ? "." : "").append(step.getFieldName());
            } else if (step.getIndex() >= 0) {
                path.append('[').append(step.getIndex()).append(']');
            }
        }
        return path.length() > 4 ? path.toString() : "";
    }

    private static String describe(Object value) {
        if (value instanceof JsonNode node) {
            return describe(node);
        }
        try {
            return describe(MAPPER.<JsonNode>valueToTree(value));
        } catch (IllegalArgumentException notJson) {
            return "a " + value.getClass().getName();
        }
    }

    /** Jackson's reason without the source excerpt it appends on lines of its own. */
    private static String firstLine(String text) {
        if (text == null) {
            return "no reason given";
        }
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
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
