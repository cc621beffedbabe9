package dev.taskpool.core.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.taskpool.core.TaskpoolException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Date;
import java.util.GregorianCalendar;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Typed values in task arguments and responses: records, java.time and Optional written as a
 * script would want them, read back equal by {@link Json#convert}, and {@link Json#plain} giving
 * what a worker sees; plain values written exactly as before the datatype modules were registered.
 */
class JsonTypesTest {
    record Line(String sku, int quantity, BigDecimal price) {
    }

    record Receipt(String order, Instant paidAt, LocalDate day, Duration took, List<Line> lines, Optional<String> note) {
    }

    private static final Receipt RECEIPT = new Receipt("A-17", Instant.parse("2025-03-01T09:30:00.250Z"), LocalDate.of(2025, 3, 1),
            Duration.ofSeconds(90), List.of(new Line("tea", 2, new BigDecimal("3.5")), new Line("cup", 1, new BigDecimal("12"))),
            Optional.of("gift"));

    /** The mapper as it was before java.time and Optional were known: plain values must not change. */
    private static final ObjectMapper BEFORE = JsonMapper.builder().enable(DeserializationFeature.USE_LONG_FOR_INTS).build();

    @Test
    void plainValuesAndLegacyDatesAreWrittenByteForByteAsBefore() throws Exception {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("to", "ada@example.com");
        nested.put("n", 3);
        nested.put("big", 12345678901234L);
        nested.put("ratio", 0.1);
        nested.put("f", 1.5f);
        nested.put("huge", new BigInteger("123456789012345678901234567890"));
        nested.put("exact", new BigDecimal("1.10"));
        nested.put("none", null);
        nested.put("yes", true);
        nested.put("list", new ArrayList<>(List.of(1, "two", List.of(), Map.of())));
        nested.put("text", "é ✓ \"quoted\" \n tab\t \u0001");
        Calendar calendar = new GregorianCalendar(TimeZone.getTimeZone("UTC"));
        calendar.setTimeInMillis(1_700_000_000_123L);
        List<Object> values = Arrays.asList(nested, "plain", 42, -7L, 3.25, Double.NaN, null, false, List.of(1, 2, 3),
                new Date(1_700_000_000_123L), new java.sql.Date(1_700_000_000_123L), new Timestamp(1_700_000_000_123L),
                calendar, new byte[] {1, 2, 3}, 'c', UUID.fromString("123e4567-e89b-12d3-a456-426614174000"),
                Map.of(1, "integer key"));
        for (Object value : values) {
            assertEquals(BEFORE.writeValueAsString(value), Json.write(value), "written differently: " + value);
        }
        assertEquals(BEFORE.writeValueAsString(values), Json.write(values));
        assertEquals("1700000000123", Json.write(new Date(1_700_000_000_123L)));
    }

    @Test
    void recordsJavaTimeAndOptionalAreWrittenAsIsoTextAndPlainJson() {
        assertEquals("{\"order\":\"A-17\",\"paidAt\":\"2025-03-01T09:30:00.250Z\",\"day\":\"2025-03-01\",\"took\":\"PT1M30S\","
                        + "\"lines\":[{\"sku\":\"tea\",\"quantity\":2,\"price\":3.5},{\"sku\":\"cup\",\"quantity\":1,\"price\":12}],"
                        + "\"note\":\"gift\"}",
                Json.write(RECEIPT));
        assertEquals("[\"2025-03-01T09:30:00\",\"2025-03-01T09:30:00+02:00\",null,\"P1Y2M\"]", Json.write(Arrays.asList(
                LocalDateTime.of(2025, 3, 1, 9, 30), OffsetDateTime.of(2025, 3, 1, 9, 30, 0, 0, ZoneOffset.ofHours(2)),
                Optional.empty(), java.time.Period.of(1, 2, 0))));
    }

    @Test
    void whatIsWrittenConvertsBackEqualFromThePlainValueAWorkerReads() {
        Object plain = Json.plain(RECEIPT);
        assertEquals(RECEIPT, Json.convert(plain, Receipt.class));
        // And from the task's stored arguments as a worker parses them.
        List<Object> args = Json.readArgs(Json.write(List.of(RECEIPT, 5)), "args");
        assertEquals(RECEIPT, Json.convert(args.get(0), Receipt.class));
        assertEquals(5, Json.convert(args.get(1), int.class));
        OffsetDateTime offset = OffsetDateTime.of(2025, 3, 1, 9, 30, 0, 0, ZoneOffset.ofHours(2));
        assertEquals(offset, Json.convert(Json.plain(offset), OffsetDateTime.class), "the offset is kept, not moved to UTC");
        List<Line> lines = List.of(new Line("tea", 2, BigDecimal.ONE));
        assertEquals(lines, Json.convert(Json.plain(lines), new TypeReference<List<Line>>() { }.getType()));
        assertEquals(Optional.empty(), Json.convert(null, new TypeReference<Optional<String>>() { }.getType()));
        assertEquals(Optional.of("gift"), Json.convert("gift", new TypeReference<Optional<String>>() { }.getType()));
        assertEquals(RECEIPT, Json.convert(Json.toNode(RECEIPT), Receipt.class), "a JsonNode converts too");
    }

    @Test
    @SuppressWarnings("unchecked")
    void plainGivesMapsListsTextLongsDoublesAndBooleansOnly() {
        Map<String, Object> receipt = (Map<String, Object>) Json.plain(RECEIPT);
        assertEquals("2025-03-01T09:30:00.250Z", receipt.get("paidAt"));
        assertEquals("PT1M30S", receipt.get("took"));
        Map<String, Object> line = ((List<Map<String, Object>>) receipt.get("lines")).getFirst();
        assertEquals(2L, line.get("quantity"));
        assertEquals(3.5, line.get("price"));
        assertEquals(5L, Json.plain(5));
        assertEquals(2.5, Json.plain(2.5f));
        assertEquals("AQID", Json.plain(new byte[] {1, 2, 3}), "bytes as JSON has them: base64 text");
        assertEquals("x", Json.plain("x"));
        assertNull(Json.plain(null));
        assertNull(Json.plain(Optional.empty()));
        assertEquals(List.of(1L, "a", true), Json.plain(List.of(1, "a", true)));
    }

    @Test
    void aBigDecimalComesBackThroughADoubleAsEveryJsonNumberWithAFractionDoes() {
        Line line = new Line("tea", 2, new BigDecimal("3.50"));
        assertEquals(new BigDecimal("3.5"), Json.convert(Json.plain(line), Line.class).price(), "the trailing zero is not kept");
    }

    @Test
    void aValueThatDoesNotFitNamesTheTypeWhereAndWhy() {
        Map<String, Object> wrongType = new LinkedHashMap<>();
        wrongType.put("sku", "tea");
        wrongType.put("quantity", "two");
        TaskpoolException notANumber = assertThrows(TaskpoolException.class, () -> Json.convert(wrongType, Line.class));
        assertTrue(notANumber.getMessage().startsWith("cannot convert object {\"sku\":\"tea\",\"quantity\":\"two\"} to "
                + Line.class.getTypeName() + " at quantity: "), notANumber.getMessage());
        assertTrue(notANumber.getMessage().contains("\"two\""), notANumber.getMessage());
        assertTrue(!notANumber.getMessage().contains("\n"), "one line: " + notANumber.getMessage());

        TaskpoolException unknown = assertThrows(TaskpoolException.class,
                () -> Json.convert(Map.of("sku", "tea", "colour", "green"), Line.class));
        assertTrue(unknown.getMessage().contains("colour"), unknown.getMessage());

        TaskpoolException notAnInstant = assertThrows(TaskpoolException.class,
                () -> Json.convert(List.of("yesterday"), new TypeReference<List<Instant>>() { }.getType()));
        assertTrue(notAnInstant.getMessage().startsWith("cannot convert array [\"yesterday\"] to java.util.List<java.time.Instant> at [0]: "),
                notAnInstant.getMessage());

        TaskpoolException nullInt = assertThrows(TaskpoolException.class, () -> Json.convert(null, int.class));
        assertEquals("cannot convert null to int: a primitive has no null (use its wrapper type to allow one)", nullInt.getMessage());
        assertNull(Json.convert(null, Integer.class));
    }

    @Test
    void aValueThatCannotBeJsonNamesItsTypeAndWhere() {
        record Holder(Object thing) {
        }
        TaskpoolException e = assertThrows(TaskpoolException.class, () -> Json.write(List.of(new Holder(new Object()))));
        assertTrue(e.getMessage().startsWith("cannot serialise List12 to JSON at [0].thing: No serializer found for class java.lang.Object"),
                e.getMessage());
        assertThrows(TaskpoolException.class, () -> Json.plain(new Holder(new Object())));
    }
}
