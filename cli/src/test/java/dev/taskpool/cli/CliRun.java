package dev.taskpool.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the command line in this JVM as a user would call it, capturing what it prints. */
final class CliRun {
    /** The exit code, stdout (trimmed) and stderr of one command. */
    record Result(int code, String out, String err) {
    }

    private CliRun() {
    }

    /** One command; synchronized because it swaps {@code System.out} for the JVM. */
    static Result execute(String... args) {
        return execute(new ByteArrayOutputStream(), args);
    }

    /**
     * One command, its stdout written to {@code out} as it runs: a test reads {@code out} from
     * another thread to act on what a long command (watch) has printed so far.
     */
    static synchronized Result execute(ByteArrayOutputStream out, String... args) {
        PrintStream original = System.out;
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var commandLine = TaskpoolCommand.commandLine();
            commandLine.setErr(new PrintWriter(err, true));
            int code = commandLine.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString());
        } finally {
            System.setOut(original);
        }
    }
}
