package dev.taskpool.cli;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.worker.script.ScriptException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code taskpool}: the command line of workers, processes, task lookups and the demo. */
@Command(name = "taskpool", mixinStandardHelpOptions = true, version = "taskpool 0.1.0",
        description = "A distributed task pool on Redis: runs the tasks of an app (tasks/*.yao, scripts/*.js).",
        subcommands = {WorkerCommand.class, RunCommand.class, GetCommand.class, StatsCommand.class, ListCommand.class,
                WatchCommand.class, ControlCommands.Retry.class, ControlCommands.Cancel.class, ControlCommands.Pause.class,
                ControlCommands.Resume.class, ControlCommands.RunNow.class, ControlCommands.Delete.class, DemoCommand.class,
                DashboardCommand.class, CommandLine.HelpCommand.class})
public final class TaskpoolCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "on an error, print its Java stack trace too")
    boolean debug;

    @Override
    public void run() {
        // from the commands there are, so that a new one is never left out
        List<String> commands = spec.subcommands().keySet().stream().filter(name -> !name.equals("help")).toList();
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: "
                + String.join(", ", commands.subList(0, commands.size() - 1)) + " or " + commands.getLast());
    }

    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new TaskpoolCommand());
        commandLine.setParameterExceptionHandler(TaskpoolCommand::usageError);
        commandLine.setExecutionExceptionHandler((error, line, parsed) -> {
            PrintWriter err = line.getErr();
            // (an error can quote what a producer or an operator wrote: it must not drive the terminal)
            err.println("taskpool: " + Visible.lines(describe(error)));
            if (debugRequested(parsed)) {
                error.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        return commandLine;
    }

    /**
     * A bad command line (an unknown option, a bad value, a missing argument): one line naming it
     * and where the command's options are described, instead of the whole usage; exit code 2.
     */
    private static int usageError(CommandLine.ParameterException error, String[] args) {
        CommandLine line = error.getCommandLine();
        PrintWriter err = line.getErr();
        err.println("taskpool: " + usageErrorLine(error));
        err.flush();
        return line.getCommandSpec().exitCodeOnInvalidInput();
    }

    static String usageErrorLine(CommandLine.ParameterException error) {
        StringBuilder text = new StringBuilder(Visible.line(error.getMessage()));
        if (error instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            text.append("; did you mean ").append(Visible.line(String.join(" or ", unmatched.getSuggestions()))).append('?');
        }
        return text.append(" (see `").append(error.getCommandLine().getCommandSpec().qualifiedName()).append(" --help`)")
                .toString();
    }

    /**
     * An error as the one line a user reads: a script's or any other deliberate error is its
     * message (and where in the app's scripts it was thrown); anything else is a bug of ours, named
     * as such. The Java stack trace is for {@code --debug} only.
     */
    static String describe(Throwable error) {
        String message = error.getMessage() == null || error.getMessage().isBlank() ? null : error.getMessage();
        if (error instanceof ScriptException script) {
            return (message != null ? message : "script error") + script.location().map(at -> " (at " + at + ")").orElse("");
        }
        if (error instanceof TaskpoolException) {
            // (Redis refusing the ACL user something is already the one line that names the rule)
            return message != null ? message : error.getClass().getSimpleName();
        }
        Optional<String> refused = AclRefusal.explain(error, null, null);
        if (refused.isPresent()) {
            return refused.get();
        }
        if (error instanceof IllegalArgumentException || error instanceof IllegalStateException) {
            return message != null ? message : error.getClass().getSimpleName();
        }
        return "unexpected error " + error.getClass().getName() + (message != null ? ": " + message : "")
                + " (--debug prints its stack trace)";
    }

    private static boolean debugRequested(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult result = parsed; result != null; result = result.subcommand()) {
            if (result.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    public static void main(String[] args) {
        System.exit(run(commandLine(), args));
    }

    /**
     * Runs a command line: this one, or this one with commands of another module added (the
     * benchmark's {@code BenchMain}); returns the exit code.
     */
    public static int run(CommandLine commandLine, String[] args) {
        // Netty's leak detector samples buffers with a stack trace each; our buffers are Lettuce's
        // own, and the trace costs every worker CPU. -Dio.netty.leakDetection.level=... still wins.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        return commandLine.execute(args);
    }
}
