package dev.taskpool.core.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The size limits of arguments and results: how a user writes them, and what exceeding one says. */
class ValueLimitsTest {
    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource({
            "1048576, 1048576",
            "1, 1",
            "512KiB, 524288",
            "512k, 524288",
            "512 KB, 524288",
            "4MiB, 4194304",
            "4m, 4194304",
            "1mb, 1048576",
            "100b, 100",
            "512MiB, 536870912",
    })
    void sizesAreBytesOrBinaryUnits(String text, long bytes) {
        assertEquals(bytes, ValueLimits.parseSize(text));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "lots   | 'lots' is not a size (expected e.g. 1048576, 512KiB or 4MiB)",
            "1.5MiB | '1.5MiB' is not a size",
            "-1     | '-1' is not a size",
            "4GiB   | '4GiB' is not a size",
            "0      | a size limit must be from 1 byte to 512 MiB, got '0'",
            "513MiB | a size limit must be from 1 byte to 512 MiB, got '513MiB'",
    })
    void aBadSizeSaysWhatIsExpected(String text, String expected) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> ValueLimits.parseSize(text));
        assertTrue(error.getMessage().contains(expected), "expected «" + expected + "» in: " + error.getMessage());
    }

    @Test
    void defaultsAreOneMebibyteEach() {
        assertEquals(new ValueLimits(1024 * 1024, 1024 * 1024), ValueLimits.defaults());
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new ValueLimits(0, 10));
        assertTrue(error.getMessage().contains("the argument size limit must be from 1 byte to 512 MiB, got 0 bytes"),
                error.getMessage());
    }

    @Test
    void argumentsUpToTheLimitPassAndOneByteMoreIsRefused() {
        ValueLimits limits = ValueLimits.defaults().withMaxArgsBytes(10);
        assertEquals("[\"abcdef\"]", limits.argsJson("mail.send", List.of("abcdef")));   // exactly 10 bytes
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> limits.argsJson("mail.send", List.of("abcdefg")));
        assertEquals("task mail.send: arguments are 11 bytes as JSON, more than the limit of 10 bytes", error.getMessage());
    }

    @Test
    void resultsAreMeasuredInUtf8Bytes() {
        // "ééé" with its quotes is 5 chars of JSON but 8 bytes of UTF-8: over a limit of 7 bytes.
        ValueLimits limits = ValueLimits.defaults().withMaxResultBytes(7);
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> limits.resultJson("ééé"));
        assertEquals("it is 8 bytes, more than the limit of 7 bytes (worker option --max-result, env TASKPOOL_MAX_RESULT)",
                error.getMessage());
        assertEquals("{\"a\":1}", ValueLimits.defaults().withMaxResultBytes(7).resultJson(Map.of("a", 1)));
        assertEquals("null", limits.resultJson(null));
    }
}
