package dev.taskpool.cli;

/**
 * Text from Redis (progress messages, errors, responses, who did an action, kind names) made safe
 * to print on a terminal. Producers put end users' input there, and a terminal obeys the control
 * characters in what it prints: ESC and CSI sequences clear the screen or rewrite lines, OSC ones
 * set the window title or write the clipboard (OSC 52). Every control character is shown as
 * visible text instead, so the operator sees what was sent and the terminal obeys none of it.
 *
 * <p>ESC becomes {@code \e}; newline, carriage return and tab become {@code \n}, {@code \r},
 * {@code \t}; any other C0 control, DEL and the C1 controls (U+0080 to U+009F, which some
 * terminals obey as ESC sequences) become {@code \xNN}. The Unicode marks that reorder or break
 * what is displayed (bidirectional overrides and isolates, the line and paragraph separators)
 * become {@code \u202E} and the like. Everything else, Chinese or emoji included, is kept.
 * A backslash is kept as it is, so text already made visible is left unchanged.
 */
final class Visible {
    private Visible() {
    }

    /** {@code text} as one line: every control character, newlines included, made visible. */
    static String line(String text) {
        return render(text, false);
    }

    /**
     * {@code text} that may span lines (an error listing several problems): newlines are kept,
     * every other control character is made visible.
     */
    static String lines(String text) {
        return render(text, true);
    }

    private static String render(String text, boolean keepNewlines) {
        if (text == null) {
            return "";
        }
        int length = text.length();
        int first = 0;
        while (first < length && !mustEscape(text.charAt(first), keepNewlines)) {
            first++;
        }
        if (first == length) {
            return text;
        }
        StringBuilder visible = new StringBuilder(length + 16).append(text, 0, first);
        for (int i = first; i < length; i++) {
            char c = text.charAt(i);
            if (!mustEscape(c, keepNewlines)) {
                visible.append(c);
                continue;
            }
            switch (c) {
                case '\u001b' -> visible.append("\\e");
                case '\n' -> visible.append("\\n");
                case '\r' -> visible.append("\\r");
                case '\t' -> visible.append("\\t");
                default -> visible.append(c < 0x100 ? "\\x%02x".formatted((int) c) : "\\u%04X".formatted((int) c));
            }
        }
        return visible.toString();
    }

    private static boolean mustEscape(char c, boolean keepNewlines) {
        if (c == '\n') {
            return !keepNewlines;
        }
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || reordersOrBreaksLines(c);
    }

    /** Bidirectional embeddings, overrides and isolates, and the line and paragraph separators. */
    private static boolean reordersOrBreaksLines(char c) {
        return (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069') || c == '\u2028' || c == '\u2029';
    }
}
