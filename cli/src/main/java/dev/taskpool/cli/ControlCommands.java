package dev.taskpool.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The operator's actions: retry, cancel, pause, resume, run-now, delete. Each is one script in Redis that
 * publishes an event; a refused one is one line on stderr naming the task, the id and why, exit 1.
 */
final class ControlCommands {
    private ControlCommands() {
    }

    /**
     * Prints what was done: a sentence (which quotes the kind as typed: made visible), or with
     * --json {"action":..,"task":..,...}.
     */
    private static void done(Options.JsonOption output, String sentence, ObjectNode json) {
        if (output.json) {
            Operator.printJson(json);
        } else {
            System.out.println(Visible.line(sentence));
        }
    }

    private static ObjectNode action(String action, String task) {
        ObjectNode node = Json.NODES.objectNode();
        node.put("action", action);
        node.put("task", task);
        return node;
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = "Put a FAILURE task (or with --failed every failed one of the kind) back in the queue with a fresh run budget.")
    static final class Retry implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "TASK", description = "the task kind")
        String task;

        @Parameters(index = "1", paramLabel = "ID", arity = "0..1", description = "the task's id (or --failed)")
        Long id;

        @Option(names = "--failed", description = "every FAILURE task of the kind still retained")
        boolean allFailed;

        @Override
        public void run() {
            if ((id == null) == !allFailed) {
                throw new IllegalArgumentException(
                        id == null ? "retry needs an ID, or --failed for every failed task of " + task
                                : "retry takes an ID or --failed, not both");
            }
            if (allFailed) {
                int count = Operator.withOperations(redis, operations -> operations.retryFailed(task, by.by));
                done(output, "retried " + count + " failed task" + (count == 1 ? "" : "s") + " of " + task + " (now WAITING)",
                        action("retry", task).put("failed", true).put("count", count));
                return;
            }
            Operator.act(redis, operations -> operations.retry(task, id, by.by));
            done(output, "retried task " + task + " #" + id + " (now WAITING)", action("retry", task).put("id", id));
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = "Cancel a WAITING or RUNNING task: it ends FAILURE (\"canceled by WHO\"), with no further retry;"
                    + " a running one is stopped on its worker within about a second.")
    static final class Cancel implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "TASK", description = "the task kind")
        String task;

        @Parameters(index = "1", paramLabel = "ID", description = "the task's id")
        long id;

        @Override
        public void run() {
            Operator.act(redis, operations -> operations.cancel(task, id, by.by));
            done(output, "canceled task " + task + " #" + id + " (now FAILURE)", action("cancel", task).put("id", id));
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Pause a kind: workers take none of its tasks until resume (adds are still accepted; running tasks finish).")
    static final class Pause implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "TASK", description = "the task kind")
        String task;

        @Override
        public void run() {
            Operator.act(redis, operations -> operations.pause(task, by.by));
            done(output, "paused " + task + ": workers take none of its tasks until `taskpool resume " + task + "`",
                    action("pause", task));
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused kind: workers take its tasks again.")
    static final class Resume implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "TASK", description = "the task kind")
        String task;

        @Override
        public void run() {
            Operator.act(redis, operations -> operations.resume(task, by.by));
            done(output, "resumed " + task, action("resume", task));
        }
    }

    @Command(name = "run-now", mixinStandardHelpOptions = true,
            description = "Run a delayed task now, before its due time: it goes to the front of the queue and is the next"
                    + " of its kind to start (once resumed, when the kind is paused).")
    static final class RunNow implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;
        @Mixin
        Options.ByOption by;

        @Parameters(index = "0", paramLabel = "TASK", description = "the task kind")
        String task;

        @Parameters(index = "1", paramLabel = "ID", description = "the delayed task's id")
        long id;

        @Override
        public void run() {
            Operator.act(redis, operations -> operations.runNow(task, id, by.by));
            done(output, "task " + task + " #" + id + " runs next (WAITING at the front of the queue)",
                    action("run-now", task).put("id", id));
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a finished (SUCCESS or FAILURE) task.")
    static final class Delete implements Runnable {
        @Mixin
        Options.RedisOption redis;
        @Mixin
        Options.JsonOption output;

        @Parameters(index = "0", paramLabel = "TASK", description = "the task kind")
        String task;

        @Parameters(index = "1", paramLabel = "ID", description = "the task's id")
        long id;

        @Override
        public void run() {
            Operator.act(redis, operations -> operations.delete(task, id));
            done(output, "deleted task " + task + " #" + id, action("delete", task).put("id", id));
        }
    }
}
