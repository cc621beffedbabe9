package dev.taskpool.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.taskpool.core.json.Json;

/**
 * JSON as the command line prints it (get, run, --json, watch --json). JSON escapes the C0 controls
 * by itself, but prints DEL, the C1 controls (U+0080 to U+009F; some terminals obey U+009B as CSI)
 * and the marks that reorder text as they are: here they become {@code \}{@code uXXXX} escapes
 * too, so JSON printed on a terminal cannot drive it either. The value read back is the same.
 */
final class TerminalJson {
    private static final ObjectWriter COMPACT = Json.MAPPER.writer().with(new TerminalEscapes());
    private static final ObjectWriter PRETTY = COMPACT.with(SerializationFeature.INDENT_OUTPUT);

    private TerminalJson() {
    }

    /** Indented, as {@code get} and {@code run} print a value. */
    static String pretty(Object value) {
        return write(PRETTY, value);
    }

    /** On one line, as {@code watch --json} prints each event. */
    static String compact(Object value) {
        return write(COMPACT, value);
    }

    private static String write(ObjectWriter writer, Object value) {
        try {
            return writer.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            return Visible.line(String.valueOf(value));
        }
    }

    private static final class TerminalEscapes extends CharacterEscapes {
        private final int[] ascii = standardAsciiEscapesForJSON();

        TerminalEscapes() {
            ascii[0x7f] = ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int c) {
            boolean escaped = (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
                    || c == 0x2028 || c == 0x2029;
            return escaped ? new SerializedString("\\u%04X".formatted(c)) : null;
        }
    }
}
