package dev.taskpool.cli;

import dev.taskpool.core.TaskpoolException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code taskpool}: the command line of workers, processes, task lookups and the demo. */
@Command(name = "taskpool", mixinStandardHelpOptions = true, version = "taskpool 0.1.0",
        description = "A distributed task pool on Redis: runs the tasks of an app (tasks/*.yao, scripts/*.js).",
        subcommands = {WorkerCommand.class, RunCommand.class, GetCommand.class, DemoCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class TaskpoolCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: worker, run, get or demo");
    }

    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new TaskpoolCommand());
        commandLine.setExecutionExceptionHandler((error, line, parsed) -> {
            Throwable shown = error;
            if (error instanceof TaskpoolException || error instanceof IllegalArgumentException
                    || error instanceof IllegalStateException) {
                line.getErr().println("taskpool: " + shown.getMessage());
            } else {
                line.getErr().println("taskpool: " + shown);
                shown.printStackTrace(line.getErr());
            }
            return 1;
        });
        return commandLine;
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
