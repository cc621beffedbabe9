package dev.taskpool.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * An aligned text table: a header row, then one row per item; numeric columns are right-aligned.
 * Widths count characters (code points: an emoji in a key is one, not two) of the text only, so colours (added by {@link Terminal#paint}) never shift a column.
 * A cell is one line whatever it holds: its control characters are made visible ({@link Visible}),
 * so a value from Redis can neither break the table nor drive the terminal.
 */
final class Table {
    private record Cell(String text, Terminal.Style style) {
    }

    private final List<String> headers;
    private final boolean[] rightAligned;
    private final List<List<Cell>> rows = new ArrayList<>();
    /** Rows whose second cell runs across the other columns (a message where numbers would be); widths ignore it. */
    private final Set<List<Cell>> spanning = Collections.newSetFromMap(new IdentityHashMap<>());
    private List<Cell> current;

    /** Headers; one ending in ">" is right-aligned (the ">" is not printed). */
    Table(String... headers) {
        this.headers = new ArrayList<>();
        this.rightAligned = new boolean[headers.length];
        for (int i = 0; i < headers.length; i++) {
            rightAligned[i] = headers[i].endsWith(">");
            this.headers.add(rightAligned[i] ? headers[i].substring(0, headers[i].length() - 1) : headers[i]);
        }
    }

    Table row() {
        current = new ArrayList<>();
        rows.add(current);
        return this;
    }

    Table cell(Object value) {
        return cell(value, null);
    }

    Table cell(Object value, Terminal.Style style) {
        current.add(new Cell(value == null ? "" : Visible.line(String.valueOf(value)), style));
        return this;
    }

    /** A row of its first cell, then {@code message} across the other columns. */
    Table spanningRow(Object first, Terminal.Style firstStyle, String message, Terminal.Style messageStyle) {
        row().cell(first, firstStyle).cell(message, messageStyle);
        spanning.add(current);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    List<String> render(Terminal terminal) {
        int[] widths = new int[headers.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = width(headers.get(i));
        }
        for (List<Cell> row : rows) {
            for (int i = 0; i < (spanning.contains(row) ? 1 : row.size()) && i < widths.length; i++) {
                widths[i] = Math.max(widths[i], width(row.get(i).text()));
            }
        }
        List<String> lines = new ArrayList<>();
        List<Cell> header = headers.stream().map(text -> new Cell(text, Terminal.Style.BOLD)).toList();
        lines.add(line(header, widths, terminal));
        for (List<Cell> row : rows) {
            lines.add(spanning.contains(row) ? spanningLine(row, widths[0], terminal) : line(row, widths, terminal));
        }
        return lines;
    }

    void print(Terminal terminal) {
        render(terminal).forEach(terminal.out()::println);
    }

    private String spanningLine(List<Cell> cells, int firstWidth, Terminal terminal) {
        Cell first = cells.get(0);
        Cell message = cells.get(1);
        return (terminal.paint(first.text(), first.style()) + " ".repeat(firstWidth - width(first.text())) + "  "
                + terminal.paint(message.text(), message.style())).stripTrailing();
    }

    /** The characters of {@code text}: its code points, so that a character beyond the BMP counts once. */
    static int width(String text) {
        return text.codePointCount(0, text.length());
    }

    private String line(List<Cell> cells, int[] widths, Terminal terminal) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.size() && i < widths.length; i++) {
            Cell cell = cells.get(i);
            String pad = " ".repeat(widths[i] - width(cell.text()));
            boolean last = i == cells.size() - 1;
            if (i > 0) {
                line.append("  ");
            }
            if (rightAligned[i]) {
                line.append(pad).append(terminal.paint(cell.text(), cell.style()));
            } else {
                line.append(terminal.paint(cell.text(), cell.style())).append(last ? "" : pad);
            }
        }
        return line.toString().stripTrailing();
    }
}
