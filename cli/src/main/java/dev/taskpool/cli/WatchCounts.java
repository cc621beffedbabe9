package dev.taskpool.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.KindOverview;
import dev.taskpool.core.ops.KindStats;
import dev.taskpool.core.ops.Overview;
import dev.taskpool.core.ops.TaskOperations;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code taskpool watch} reads every {@code --refresh}: the counts of the kinds as
 * {@code taskpool stats} reads and shows them (a kind broken by hand is a row naming the key and
 * what it holds; the others are read, and the watch goes on), the overview's problems, and the
 * running tasks of the readable kinds. Drawn as a table on a terminal, else printed once per change.
 */
final class WatchCounts {
    private static final int RUNNING_SHOWN = 15;

    private final TaskOperations operations;
    /** Only this kind; null: every kind. */
    private final String task;
    private final Map<String, String> lastPrinted = new HashMap<>();
    private final Set<String> problemsPrinted = new LinkedHashSet<>();
    private List<KindOverview> kinds = List.of();
    private List<String> problems = List.of();
    private List<TaskInfo> running = List.of();

    WatchCounts(TaskOperations operations, String task) {
        this.operations = operations;
        this.task = task;
    }

    void read() {
        if (task != null) {
            kinds = List.of(operations.overview(task));
        } else {
            Overview overview = operations.overview();
            kinds = overview.kinds();
            problems = overview.problems();
        }
        List<TaskInfo> now = new ArrayList<>();
        for (KindOverview row : kinds) {
            KindStats kind = row.stats();   // (a broken kind has none: its keys cannot be read, its running tasks neither)
            if (kind != null && kind.running() > 0 && now.size() < RUNNING_SHOWN) {
                // (watch of one partition, by its name: that partition's running tasks)
                now.addAll(operations.list(task != null ? task : kind.task(), TaskStatus.RUNNING, RUNNING_SHOWN - now.size(),
                        null).tasks());
            }
        }
        running = now;
    }

    /** The running tasks of the last read, at most {@value #RUNNING_SHOWN}. */
    List<TaskInfo> running() {
        return running;
    }

    /** The kinds' table of {@code taskpool stats}, then the problems. */
    void draw(StringBuilder screen, Terminal terminal) {
        if (kinds.isEmpty()) {
            screen.append("no task kinds yet\n");
        } else {
            StatsCommand.overviewTable(kinds).render(terminal).forEach(line -> screen.append(line).append('\n'));
            for (String held : StatsCommand.heldBack(kinds, System.currentTimeMillis())) {
                screen.append(terminal.paint("held back: ", Terminal.Style.YELLOW)).append(held).append('\n');
            }
        }
        for (String problem : problems) {
            screen.append(terminal.paint("problem: ", Terminal.Style.RED)).append(Visible.line(problem)).append('\n');
        }
    }

    /**
     * Plain or JSON lines: a kind's counts, once per change; a kind whose counts cannot be read,
     * once until that changes (as {@code taskpool stats} shows it: {@code ERROR <key> holds …}, or
     * {@code {"task", "error"}}); a problem of the overview, once while it lasts.
     */
    void printChanged(Terminal terminal, boolean json) {
        long now = System.currentTimeMillis();
        for (KindOverview row : kinds) {
            KindStats kind = row.stats();
            String line;
            if (json) {
                ObjectNode node = row.toJson();
                node.put("event", "counts");
                line = TerminalJson.compact(node);
            } else if (kind == null) {
                line = "%s counts %s: %s".formatted(WatchCommand.time(now), Visible.line(row.task()),
                        Visible.line(StatsCommand.unreadable(row)));
            } else {
                String held = StatsCommand.heldBack(kind, now);
                line = "%s counts %s: waiting %d%s, running %d%s, succeeded %d, failed %d, retried %d, canceled %d%s%s%s".formatted(
                        WatchCommand.time(now), Visible.line(kind.task()), kind.waiting(),
                        kind.delayed() > 0 ? " (" + kind.delayed() + " delayed)" : "", kind.running(),
                        kind.flow().maxRunning() > 0 ? " of " + kind.flow().maxRunning() : "", kind.succeededTotal(),
                        kind.failedTotal(), kind.retried(), kind.canceled(),
                        kind.duplicates() > 0 ? ", duplicates " + kind.duplicates() : "", kind.paused() ? ", paused" : "",
                        held.isEmpty() ? "" : ", held back: " + held);
            }
            // (the time and the throughput change every second, a rate limit's end at each start;
            // compare what the operator follows)
            String followed = kind == null ? "error " + row.error() : "%d/%d/%d/%d/%d/%d/%d/%b/%d/%b/%b/%b".formatted(kind.waiting(),
                    kind.delayed(), kind.running(), kind.succeededTotal(), kind.failedTotal(), kind.retried(), kind.canceled(),
                    kind.paused(), kind.duplicates(), kind.flow().atCap(), kind.flow().rateLimitedUntil() > 0,
                    kind.flow().heldUntil() > 0);
            if (!followed.equals(lastPrinted.put(row.task(), followed))) {
                terminal.out().println(line);
            }
        }
        problemsPrinted.retainAll(problems);   // a problem that goes away and comes back is printed again
        for (String problem : problems) {
            if (!problemsPrinted.add(problem)) {
                continue;
            }
            if (json) {
                ObjectNode node = Json.NODES.objectNode();
                node.put("event", "problem");
                node.put("problem", problem);
                terminal.out().println(TerminalJson.compact(node));
            } else {
                terminal.out().println(WatchCommand.time(now) + " problem: " + Visible.line(problem));
            }
        }
        terminal.out().flush();
    }
}
