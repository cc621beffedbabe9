package dev.taskpool.bench;

import dev.taskpool.cli.TaskpoolCommand;
import picocli.CommandLine;

/**
 * The command line with {@code taskpool bench} added: the benchmark lives in a module of its own,
 * outside the shipped command line jar, and bin/taskpool runs this class for {@code bench}.
 * Every other command behaves as in {@link TaskpoolCommand}.
 */
public final class BenchMain {
    private BenchMain() {
    }

    /** {@link TaskpoolCommand#commandLine()} with the {@code bench} command. */
    public static CommandLine commandLine() {
        CommandLine commandLine = TaskpoolCommand.commandLine();
        commandLine.addSubcommand(new BenchCommand());
        commandLine.addSubcommand(new DelayBenchCommand());
        commandLine.addSubcommand(new ScheduleBenchCommand());
        commandLine.addSubcommand(new FlowBenchCommand());
        return commandLine;
    }

    public static void main(String[] args) {
        System.exit(TaskpoolCommand.run(commandLine(), args));
    }
}
