package dev.taskpool.bench;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the benchmark's command line in this JVM as a user would call it, capturing what it prints. */
final class BenchRun {
    /** The exit code, stdout (trimmed) and stderr of one command. */
    record Result(int code, String out, String err) {
    }

    private BenchRun() {
    }

    /** One command; synchronized because it swaps {@code System.out} for the JVM. */
    static synchronized Result execute(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var commandLine = BenchMain.commandLine();
            commandLine.setErr(new PrintWriter(err, true));
            int code = commandLine.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString());
        } finally {
            System.setOut(original);
        }
    }
}
