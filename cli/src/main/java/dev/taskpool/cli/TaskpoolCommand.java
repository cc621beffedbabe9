package dev.taskpool.cli;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.redis.AclRefusal;
import dev.taskpool.worker.script.ScriptException;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code taskpool}: the command line of workers, processes, task lookups and the demo. */
@Command(name = "taskpool", mixinStandardHelpOptions = true, version = "taskpool 0.1.0",
        description = "A distributed task pool on Redis: runs the tasks of an app (tasks/*.yao, scripts/*.js).",
        subcommands = {WorkerCommand.class, RunCommand.class, GetCommand.class, StatsCommand.class, ListCommand.class,
                WatchCommand.class, ControlCommands.Retry.class, ControlCommands.Cancel.class, ControlCommands.Pause.class,
                ControlCommands.Resume.class, ControlCommands.Delete.class, DemoCommand.class, BenchCommand.class,
                DashboardCommand.class,
                CommandLine.HelpCommand.class})
public final class TaskpoolCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "on an error, print its Java stack trace too")
    boolean debug;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: worker, run, get, stats, list, watch, retry, cancel, pause, resume, delete or demo");
    }

    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new TaskpoolCommand());
        commandLine.setExecutionExceptionHandler((error, line, parsed) -> {
            PrintWriter err = line.getErr();
            err.println("taskpool: " + describe(error));
            if (debugRequested(parsed)) {
                error.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        return commandLine;
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
        // Netty's leak detector samples buffers with a stack trace each; our buffers are Lettuce's
        // own, and the trace costs every worker CPU. -Dio.netty.leakDetection.level=... still wins.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        System.exit(commandLine().execute(args));
    }
}
