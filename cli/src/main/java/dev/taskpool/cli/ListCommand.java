package dev.taskpool.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskPage;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code taskpool list TASK}: one page of a kind's tasks in one status, newest first, with each
 * task's priority and unique key. WAITING lists the delayed tasks first (latest due first, with
 * when they are due), then the ready ones, lowest priority first and newest first within one: the
 * reverse of the order they will start in.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List a kind's tasks in one status, newest first, a page at a time (no app directory needed)."
                + " WAITING: the delayed ones first (latest due first, DUE says when), then the ready ones (lowest"
                + " PRIO first). KEY: the task's unique key, if it has one.")
final class ListCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;
    @Mixin
    Options.JsonOption output;

    @Parameters(index = "0", paramLabel = "TASK", description = "the task kind, e.g. example or mail.send")
    String task;

    @Option(names = "--status", paramLabel = "STATUS", defaultValue = "waiting", converter = StatusConverter.class,
            description = "waiting, running, success or failure (default ${DEFAULT-VALUE})")
    TaskStatus status;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20",
            description = "how many tasks, 1 to " + TaskOperations.MAX_PAGE + " (default ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--after", paramLabel = "CURSOR",
            description = "the cursor the previous page printed, for the next page")
    String after;

    /** Reads a status in any case; a wrong one names those there are. */
    static final class StatusConverter implements CommandLine.ITypeConverter<TaskStatus> {
        @Override
        public TaskStatus convert(String value) {
            try {
                return TaskStatus.valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value
                        + "' is not a status: use waiting, running, success or failure");
            }
        }
    }

    /** The characters of a key the KEY column shows (a key may have 200); "…" marks a cut, --json gives it whole. */
    static final int KEY_SHOWN = 24;

    @Override
    public void run() {
        TaskPage page = Operator.withOperations(redis, operations -> operations.list(task, status, limit, after));
        if (output.json) {
            ObjectNode root = Json.NODES.objectNode();
            ArrayNode tasks = root.putArray("tasks");
            page.tasks().forEach(info -> tasks.add(info.toJson()));
            root.put("nextCursor", page.nextCursor());
            Operator.printJson(root);
            return;
        }
        Terminal terminal = Terminal.stdout();
        if (page.tasks().isEmpty()) {
            terminal.out().println("no " + status.name() + " task of " + Visible.line(task) + (after == null ? "" : " after this cursor"));
            return;
        }
        long now = System.currentTimeMillis();
        boolean waiting = status == TaskStatus.WAITING;
        Table table = waiting ? new Table("ID>", "STATUS", "RUN>", "PRIO>", "KEY", "ADDED", "DUE", "PROGRESS", "DETAIL")
                : new Table("ID>", "STATUS", "RUN>", "PRIO>", "KEY", "ADDED", "TOOK>", "PROGRESS", "DETAIL");
        for (TaskInfo info : page.tasks()) {
            table.row().cell(info.id()).cell(info.status().name(), Terminal.styleOf(info.status().name()))
                    .cell(info.attempt())
                    .cell(info.priority(), info.priority() > 0 ? Terminal.Style.BOLD : null)
                    .cell(info.key() == null ? "-" : Human.shorten(info.key(), KEY_SHOWN))
                    .cell(Human.ago(info.createdAt(), now))
                    .cell(waiting ? due(info, now) : took(info, now))
                    .cell(Human.bar(info.current(), info.total(), 10))
                    .cell(Human.shorten(detail(info), 70));
        }
        table.print(terminal);
        if (page.nextCursor() != null) {
            terminal.out().println();
            terminal.out().println(terminal.paint(Visible.line("more: taskpool list " + task + " --status "
                    + status.name().toLowerCase(Locale.ROOT) + " --limit " + limit + " --after " + page.nextCursor()), Terminal.Style.DIM));
        }
    }

    /** When a delayed task is due ("in 2m05s"); "ready" for one in the queue. */
    private static String due(TaskInfo info, long now) {
        return info.delayedAt(now) ? Human.dueIn(info.dueAt(), now) : "ready";
    }

    /** Run time so far (RUNNING) or in all (finished); "-" before a start. */
    private static String took(TaskInfo info, long now) {
        if (info.startedAt() == null) {
            return "-";
        }
        long end = info.finishedAt() != null && info.status().isFinished() ? info.finishedAt() : now;
        return Human.duration(end - info.startedAt());
    }

    /** What an operator wants to see first: the error, the response, the progress message or the arguments. */
    private static String detail(TaskInfo info) {
        return switch (info.status()) {
            case FAILURE -> info.error() == null ? "" : info.error();
            case SUCCESS -> info.response() == null ? "" : TerminalJson.compact(info.response());
            case RUNNING -> info.message() == null || info.message().isEmpty() ? "args " + info.args() : info.message();
            case WAITING -> "args " + info.args();
        };
    }
}
