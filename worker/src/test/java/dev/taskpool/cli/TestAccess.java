package dev.taskpool.cli;

/** Lets tests in other packages use the CLI's argument parsing. */
public final class TestAccess {
    private TestAccess() {
    }

    public static Object parseArg(String arg) {
        return RunCommand.parseArg(arg);
    }
}
