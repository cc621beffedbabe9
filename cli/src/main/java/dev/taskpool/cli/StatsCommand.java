package dev.taskpool.cli;

import dev.taskpool.core.ops.KindFlow;
import dev.taskpool.core.ops.KindOverview;
import dev.taskpool.core.ops.KindStats;
import dev.taskpool.core.ops.Overview;
import dev.taskpool.core.ops.PartitionStats;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.WorkerInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code taskpool stats}: every kind's counts and the live workers; under the kinds, a line for each
 * kind that something holds back from starting tasks (its cap, its rate, a hold a processor asked
 * for) saying what and until when. What was broken by hand in one
 * place (a key of a kind holding the wrong type, a presence record that is no JSON, a name in
 * {@code taskpool:tasks} that is no kind) is a row or a line naming it; the rest is shown, and the
 * exit code is then {@value #INCOMPLETE}. {@code stats TASK}: that kind alone (or one partition of
 * it, by its name), and for a partitioned kind a table of its partitions.
 */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Per task kind: waiting (ready in the queues, and delayed until their due time), running (of its"
                + " cap, if it has one), succeeded, failed, retried, recovered, canceled, duplicates refused (once there"
                + " are any), paused, how long the oldest ready task has waited, throughput over the last minute; what"
                + " holds a kind back (at cap, rate-limited until, held until); then the live workers (no app directory"
                + " needed). With TASK: that kind alone, and a partitioned kind's partitions (name, slot, master, counts).",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:everything was read", "1:Redis could not be read at all (one line on stderr)",
                "3:shown, but part of it could not be read: a kind row says ERROR, or a problem is listed"})
final class StatsCommand implements Callable<Integer> {
    /** The exit code when the overview is shown with parts that could not be read. */
    static final int INCOMPLETE = 3;

    @Spec
    CommandSpec spec;
    @Mixin
    Options.RedisOption redis;
    @Mixin
    Options.JsonOption output;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TASK",
            description = "only this kind (a partitioned kind: with a row per partition), or one partition of it by"
                    + " its name (KIND~N, as that row names it)")
    String task;

    @Override
    public Integer call() {
        if (task != null) {
            return one(Operator.withOperations(redis, operations -> operations.overview(task)));
        }
        Overview overview = Operator.withOperations(redis, TaskOperations::overview);
        if (output.json) {
            Operator.printJson(overview.toJson());
        } else {
            print(Terminal.stdout(), overview, System.currentTimeMillis());
        }
        if (overview.complete()) {
            return 0;
        }
        long broken = overview.kinds().stream().filter(kind -> kind.error() != null).count() + overview.problems().size();
        spec.commandLine().getErr().println("taskpool: " + broken + " part(s) of the overview could not be read"
                + (output.json ? " (an \"error\" field or \"problems\")" : " (the ERROR rows and problem lines)")
                + "; the rest is shown");
        return INCOMPLETE;
    }

    /** {@code stats TASK}: the kind's row, what holds it back, its partitions. */
    private int one(KindOverview row) {
        if (output.json) {
            Operator.printJson(row.toJson());
        } else {
            Terminal terminal = Terminal.stdout();
            overviewTable(List.of(row)).print(terminal);
            heldBack(List.of(row), System.currentTimeMillis()).forEach(line -> terminal.out().println(
                    terminal.paint("held back: ", Terminal.Style.YELLOW) + line));
            if (row.stats() != null && !row.stats().partitions().isEmpty()) {
                terminal.out().println(partitionsLine(row.stats()));
                partitionTable(row.stats().partitions()).print(terminal);
            }
            terminal.out().flush();
        }
        if (row.error() == null) {
            return 0;
        }
        spec.commandLine().getErr().println("taskpool: the counts of " + Visible.line(row.task()) + " could not be read"
                + (output.json ? " (its \"error\" field)" : " (the ERROR row)"));
        return INCOMPLETE;
    }

    /** "partitions: 3, all taking adds", or "partitions: 4, the first 2 taking adds (the others are served until empty)". */
    static String partitionsLine(KindStats kind) {
        List<PartitionStats> rows = kind.partitions();
        long adding = rows.stream().filter(PartitionStats::adding).count();
        if (rows.size() == 1) {
            return "partitions: " + Visible.line(rows.getFirst().name()) + " alone (partition " + rows.getFirst().number() + ")";
        }
        return "partitions: " + rows.size() + (adding == rows.size() ? ", all taking adds"
                : ", the first " + adding + " taking adds (the others are served until empty)");
    }

    /** A row per partition: its number, name, slot, master (in a Cluster), counts, paused. */
    static Table partitionTable(List<PartitionStats> rows) {
        boolean cluster = rows.stream().anyMatch(row -> row.master() != null);
        List<String> headers = new ArrayList<>(List.of("#>", "NAME", "SLOT>"));
        if (cluster) {
            headers.add("MASTER");
        }
        headers.addAll(List.of("READY>", "DELAYED>", "RUNNING>", "SIZE>", "PAUSED"));
        Table table = new Table(headers.toArray(String[]::new));
        for (PartitionStats row : rows) {
            table.row().cell(row.number()).cell(row.name() + (row.adding() ? "" : " (no adds)")).cell(row.slot());
            if (cluster) {
                table.cell(row.master() == null ? "-" : row.master());
            }
            table.cell(row.ready(), row.ready() > 0 ? Terminal.Style.YELLOW : null)
                    .cell(row.delayed())
                    .cell(row.flow().maxRunning() > 0 ? row.running() + "/" + row.flow().maxRunning() : row.running(),
                            row.flow().atCap() ? Terminal.Style.YELLOW : row.running() > 0 ? Terminal.Style.CYAN : null)
                    .cell(row.size())
                    .cell(row.paused() ? "yes" : "no", row.paused() ? Terminal.Style.YELLOW : null);
        }
        return table;
    }

    static void print(Terminal terminal, Overview overview, long now) {
        List<KindOverview> kinds = overview.kinds();
        if (kinds.isEmpty()) {
            terminal.out().println("no task kinds (no runtime has published a definition to this Redis yet)");
        } else {
            overviewTable(kinds).print(terminal);
            heldBack(kinds, now).forEach(line -> terminal.out().println(
                    terminal.paint("held back: ", Terminal.Style.YELLOW) + line));
        }
        terminal.out().println();
        List<WorkerInfo> workers = overview.workers();
        if (workers.isEmpty()) {
            terminal.out().println("no live workers");
        } else {
            workerTable(workers, now).print(terminal);
        }
        for (String problem : overview.problems()) {
            terminal.out().println(terminal.paint("problem: ", Terminal.Style.RED) + problem);
        }
    }

    /**
     * A row per kind: its counts, or ERROR and why they cannot be read. RUNNING is "2/3" for a kind
     * with a cap of 3; DUPLICATES is there once a kind has refused one.
     */
    static Table overviewTable(List<KindOverview> rows) {
        boolean duplicates = rows.stream().anyMatch(row -> row.stats() != null && row.stats().duplicates() > 0);
        List<String> headers = new ArrayList<>(List.of("TASK", "READY>", "DELAYED>", "RUNNING>", "SUCCEEDED>", "FAILED>",
                "RETRIED>", "RECOVERED>", "CANCELED>"));
        if (duplicates) {
            headers.add("DUPLICATES>");
        }
        headers.addAll(List.of("PAUSED", "OLDEST WAIT>", "DONE/S (1m)>"));
        Table table = new Table(headers.toArray(String[]::new));
        for (KindOverview row : rows) {
            if (row.error() != null) {
                table.spanningRow(row.task(), Terminal.Style.BOLD, unreadable(row), Terminal.Style.RED);
                continue;
            }
            KindStats kind = row.stats();
            table.row().cell(kind.task(), Terminal.Style.BOLD)
                    .cell(kind.ready(), kind.ready() > 0 ? Terminal.Style.YELLOW : null)
                    .cell(kind.delayed())
                    .cell(kind.flow().maxRunning() > 0 ? kind.running() + "/" + kind.flow().maxRunning() : kind.running(),
                            kind.flow().atCap() ? Terminal.Style.YELLOW : kind.running() > 0 ? Terminal.Style.CYAN : null)
                    .cell(kind.succeededTotal(), Terminal.Style.GREEN)
                    .cell(kind.failedTotal(), kind.failedTotal() > 0 ? Terminal.Style.RED : null)
                    .cell(kind.retried())
                    .cell(kind.recovered())
                    .cell(kind.canceled());
            if (duplicates) {
                table.cell(kind.duplicates(), kind.duplicates() > 0 ? Terminal.Style.YELLOW : null);
            }
            table.cell(paused(kind), kind.paused() ? Terminal.Style.YELLOW : null)
                    .cell(kind.oldestWaitingAgeMs() < 0 ? "-" : Human.duration(kind.oldestWaitingAgeMs()))
                    .cell(Human.rate(kind.finishedPerSecondLastMinute()));
        }
        return table;
    }

    /** "yes (by)", "no", or for a partitioned kind with only some partitions paused "2 of 3 partitions". */
    static String paused(KindStats kind) {
        if (!kind.paused()) {
            return "no";
        }
        long paused = kind.pausedPartitions();
        if (kind.partitions().size() > 1 && paused < kind.partitions().size()) {
            return paused + " of " + kind.partitions().size() + " partitions";
        }
        return "yes" + (kind.pausedBy() == null || kind.pausedBy().isEmpty() ? "" : " (" + kind.pausedBy() + ")");
    }

    /**
     * A line per kind that something holds back from starting tasks: "mail.send: at cap (3/3);
     * rate-limited until 14:03:07.250 (10 per 1s)", "sms: held until 14:05:00.000 (the provider said
     * 429)". Times are Redis' (the counts are judged by its clock), shown in this machine's zone.
     */
    static List<String> heldBack(List<KindOverview> rows, long now) {
        List<String> lines = new ArrayList<>();
        for (KindOverview row : rows) {
            String why = row.stats() == null ? "" : heldBack(row.stats(), now);
            if (!why.isEmpty()) {
                lines.add(Visible.line(row.task()) + ": " + why);
            }
        }
        return lines;
    }

    /**
     * What holds {@code kind} back, "" when nothing does. A partitioned kind that is not held back
     * as a whole may have partitions that are: "partition 2 (mail~2): at cap (1/1)", each such one.
     */
    static String heldBack(KindStats kind, long now) {
        String whole = heldBack(kind.flow(), kind.running(), now);
        if (!whole.isEmpty() || kind.partitions().isEmpty()) {
            return whole;
        }
        List<String> partitions = new ArrayList<>();
        for (PartitionStats row : kind.partitions()) {
            String why = heldBack(row.flow(), row.running(), now);
            if (!why.isEmpty()) {
                partitions.add("partition " + row.number() + " (" + Visible.line(row.name()) + "): " + why);
            }
        }
        return String.join("; ", partitions);
    }

    private static String heldBack(KindFlow flow, long running, long now) {
        List<String> reasons = new ArrayList<>();
        if (flow.atCap()) {
            reasons.add("at cap (" + running + "/" + flow.maxRunning() + ")");
        }
        if (flow.rateLimitedUntil() > 0) {
            reasons.add("rate-limited until " + Human.clock(flow.rateLimitedUntil(), now) + " (" + flow.rateLimit() + " per "
                    + Human.duration(flow.ratePerMs()) + ")");
        }
        if (flow.heldUntil() > 0) {
            reasons.add("held until " + Human.clock(flow.heldUntil(), now)
                    + (flow.heldReason() == null ? "" : " (" + Visible.line(flow.heldReason()) + ")"));
        }
        return String.join("; ", reasons);
    }

    /** What a kind whose counts cannot be read shows instead: "ERROR taskpool:{mail}:waiting holds a string, expected a list". */
    static String unreadable(KindOverview row) {
        return "ERROR " + row.error();
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
