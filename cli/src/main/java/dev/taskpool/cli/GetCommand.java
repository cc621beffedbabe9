package dev.taskpool.cli;

import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.ops.TaskReads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code taskpool get TASK ID}: prints a task record as JSON; needs no app directory. */
@Command(name = "get", mixinStandardHelpOptions = true, description = "Print a task as JSON (no app directory needed).")
final class GetCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;

    @Parameters(index = "0", paramLabel = "TASK", description = "the task id, e.g. example or mail.send")
    String task;

    @Parameters(index = "1", paramLabel = "ID", description = "the id add returned")
    long id;

    @Override
    public void run() {
        try (RedisConnector connector = redis.connect()) {
            TaskInfo info = new TaskReads(connector).get(task, id).orElseThrow(() -> new UnknownTaskException(
                    "task " + task + " #" + id + " does not exist (never added, or expired after its retention)"));
            System.out.println(RunCommand.format(info.toJson()));
        }
    }
}
