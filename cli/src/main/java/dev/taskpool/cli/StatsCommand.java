package dev.taskpool.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.ops.KindStats;
import dev.taskpool.core.ops.WorkerInfo;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code taskpool stats}: every kind's counts and the live workers. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Per task kind: waiting, running, succeeded, failed, retried, recovered, paused, oldest waiting"
                + " age, throughput over the last minute; then the live workers (no app directory needed).")
final class StatsCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;
    @Mixin
    Options.JsonOption output;

    private record Snapshot(List<KindStats> kinds, List<WorkerInfo> workers) {
    }

    @Override
    public void run() {
        Snapshot snapshot = Operator.withOperations(redis, operations -> new Snapshot(operations.stats(), operations.workers()));
        if (output.json) {
            ObjectNode root = Json.NODES.objectNode();
            root.set("kinds", Operator.json(snapshot.kinds()));
            root.set("workers", Operator.json(snapshot.workers()));
            Operator.printJson(root);
            return;
        }
        Terminal terminal = Terminal.stdout();
        long now = System.currentTimeMillis();
        print(terminal, snapshot.kinds(), snapshot.workers(), now);
    }

    static void print(Terminal terminal, List<KindStats> kinds, List<WorkerInfo> workers, long now) {
        if (kinds.isEmpty()) {
            terminal.out().println("no task kinds (no runtime has published a definition to this Redis yet)");
        } else {
            kindTable(kinds).print(terminal);
        }
        terminal.out().println();
        if (workers.isEmpty()) {
            terminal.out().println("no live workers");
        } else {
            workerTable(workers, now).print(terminal);
        }
    }

    static Table kindTable(List<KindStats> kinds) {
        Table table = new Table("TASK", "WAITING>", "RUNNING>", "SUCCEEDED>", "FAILED>", "RETRIED>", "RECOVERED>",
                "CANCELED>", "PAUSED", "OLDEST WAIT>", "DONE/S (1m)>");
        for (KindStats kind : kinds) {
            table.row().cell(kind.task(), Terminal.Style.BOLD)
                    .cell(kind.waiting(), kind.waiting() > 0 ? Terminal.Style.YELLOW : null)
                    .cell(kind.running(), kind.running() > 0 ? Terminal.Style.CYAN : null)
                    .cell(kind.succeededTotal(), Terminal.Style.GREEN)
                    .cell(kind.failedTotal(), kind.failedTotal() > 0 ? Terminal.Style.RED : null)
                    .cell(kind.retried())
                    .cell(kind.recovered())
                    .cell(kind.canceled())
                    .cell(kind.paused() ? "yes" + (kind.pausedBy() == null || kind.pausedBy().isEmpty() ? "" : " (" + kind.pausedBy() + ")")
                            : "no", kind.paused() ? Terminal.Style.YELLOW : null)
                    .cell(kind.oldestWaitingAgeMs() < 0 ? "-" : Human.duration(kind.oldestWaitingAgeMs()))
                    .cell(Human.rate(kind.finishedPerSecondLastMinute()));
        }
        return table;
    }

    static Table workerTable(List<WorkerInfo> workers, long now) {
        Table table = new Table("WORKER", "HOST", "PID>", "BUSY>", "TASKS", "STARTED", "LAST SEEN");
        for (WorkerInfo worker : workers) {
            table.row().cell(worker.id()).cell(worker.host()).cell(worker.pid())
                    .cell(worker.busySlots() + "/" + worker.totalSlots(), worker.busySlots() > 0 ? Terminal.Style.CYAN : null)
                    .cell(String.join(",", worker.tasks()))
                    .cell(Human.ago(worker.startedAtMs(), now))
                    .cell(Human.ago(worker.seenAtMs(), now));
        }
        return table;
    }
}
