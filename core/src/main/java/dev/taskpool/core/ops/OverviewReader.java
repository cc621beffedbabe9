package dev.taskpool.core.ops;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the {@link Overview} part by part, so that what was broken by hand in one part (a key of
 * the wrong type, a record that is no JSON, a name in {@code taskpool:tasks} that is no kind) is
 * named in its place and the other parts are shown. A Redis that does not answer fails the whole.
 */
final class OverviewReader {
    private final TaskOperations operations;
    private final RedisClusterAsyncCommands<String, String> commands;

    OverviewReader(TaskOperations operations, RedisClusterAsyncCommands<String, String> commands) {
        this.operations = operations;
        this.commands = commands;
    }

    Overview read() {
        List<String> problems = new ArrayList<>();
        List<KindOverview> kinds = new ArrayList<>();
        for (String task : kinds(problems)) {
            if (!TaskIds.isValid(task)) {
                kinds.add(KindOverview.broken(task, Keys.TASK_REGISTRY + " holds '" + task + "', which is no task kind name"
                        + " (dot-separated words of letters, digits, '_' and '-'; written by hand?)"));
                continue;
            }
            try {
                kinds.add(kind(task));
            } catch (UnknownTaskException e) {
                // removed from the registry since it was listed: no longer a kind to show
            }
        }
        List<WorkerInfo> workers = List.of();
        try {
            WorkerPresence.Reading reading = new WorkerPresence(commands, operations.calls()).read();
            workers = reading.workers();
            problems.addAll(reading.skipped());
        } catch (TaskpoolException e) {
            if (!isBrokenData(e)) {
                throw e;
            }
            problems.add(e.getMessage());
        }
        return new Overview(kinds, workers, problems);
    }

    /**
     * The counts of {@code task}, or why they cannot be read when what Redis holds for it is broken.
     * An unknown kind fails it ({@link UnknownTaskException}), as does a Redis that cannot be read.
     */
    KindOverview kind(String task) {
        try {
            return KindOverview.read(operations.stats(task));
        } catch (UnknownTaskException e) {
            throw e;   // no data of the kind at all: not a broken kind
        } catch (TaskpoolException e) {
            if (!isBrokenData(e)) {
                throw e;
            }
            return KindOverview.broken(task, e.getMessage());
        }
    }

    /** The kind names in the registry, sorted; none (and a problem naming why) when it holds the wrong type. */
    private List<String> kinds(List<String> problems) {
        try {
            return operations.kinds();
        } catch (TaskpoolException e) {
            if (!isBrokenData(e)) {
                throw e;
            }
            String held = operations.await(commands.type(Keys.TASK_REGISTRY).toCompletableFuture(),
                    "read the type of " + Keys.TASK_REGISTRY);
            problems.add(("set".equals(held) || "none".equals(held) ? e.getMessage()
                    : Keys.TASK_REGISTRY + " holds " + KindKeyTypes.describe(held) + ", expected a set")
                    + ": the task kinds cannot be listed");
            return List.of();
        }
    }

    /**
     * Whether a failure comes from what Redis holds (an error reply such as WRONGTYPE, or a value
     * taskpool cannot read), not from reaching Redis: only the former is shown in its place.
     */
    static boolean isBrokenData(TaskpoolException failure) {
        if (AclRefusal.refused(failure)) {
            return false;   // the user's rules, not one kind's data: it would refuse every kind the same way
        }
        if (failure.getCause() == null) {
            return true;   // a check of ours on a value read, e.g. a counter that is no integer
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof RedisCommandExecutionException reply) {
                String said = reply.getMessage() == null ? "" : reply.getMessage();
                // Redis loading, busy, failing over or read-only says nothing about one kind's data:
                // the command fails with it, rather than every kind showing as broken.
                return TRANSIENT_REPLIES.stream().noneMatch(said::startsWith);
            }
        }
        return false;
    }

    /** Error replies of a Redis that cannot serve now, whatever the keys hold. */
    private static final List<String> TRANSIENT_REPLIES = List.of("LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN",
            "CLUSTERDOWN", "NOREPLICAS", "MOVED", "ASK");
}
