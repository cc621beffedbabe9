package dev.taskpool.cli;

import java.io.Console;
import java.io.PrintStream;

/**
 * Where the operator commands print: whether stdout is a terminal (then {@code watch} redraws in
 * place), and whether it gets colours (a terminal, and {@code NO_COLOR} unset, as no-color.org
 * asks, and {@code TERM} not {@code dumb}). Piped or redirected output is plain text.
 */
final class Terminal {
    enum Style {
        GREEN("32"), RED("31"), YELLOW("33"), CYAN("36"), DIM("2"), BOLD("1");

        final String code;

        Style(String code) {
            this.code = code;
        }
    }

    private final PrintStream out;
    private final boolean interactive;
    private final boolean colours;

    Terminal(PrintStream out, boolean interactive, boolean colours) {
        this.out = out;
        this.interactive = interactive;
        this.colours = colours;
    }

    /** stdout as it is now. */
    static Terminal stdout() {
        Console console = System.console();
        boolean interactive = console != null && console.isTerminal();
        String noColor = System.getenv("NO_COLOR");
        boolean colours = interactive && (noColor == null || noColor.isEmpty()) && !"dumb".equals(System.getenv("TERM"));
        return new Terminal(System.out, interactive, colours);
    }

    PrintStream out() {
        return out;
    }

    boolean interactive() {
        return interactive;
    }

    String paint(String text, Style style) {
        return colours && style != null && !text.isEmpty() ? "\u001b[" + style.code + "m" + text + "\u001b[0m" : text;
    }

    /** Colour of a task status: green done, red failed, cyan running, yellow waiting. */
    static Style styleOf(String status) {
        return switch (status) {
            case "SUCCESS" -> Style.GREEN;
            case "FAILURE" -> Style.RED;
            case "RUNNING" -> Style.CYAN;
            case "WAITING" -> Style.YELLOW;
            default -> null;
        };
    }
}
