package dev.taskpool.worker.java;

import dev.taskpool.worker.runtime.CurrentRun;
import dev.taskpool.worker.script.HostBridge;
import java.util.List;

/** The {@link TaskContext} of the run on this thread, progress going through the runtime as a script's would. */
record RunContext(String task, long id, int attempt, int maxRuns, HostBridge bridge) implements TaskContext {
    /** The context of task {@code id} of {@code task}: the run on this thread's number when it is that task's, else 1. */
    static RunContext of(String task, long id, int maxRuns, HostBridge bridge) {
        int attempt = CurrentRun.get().filter(run -> run.runs(task, id))
                .map(CurrentRun.RunningTask::attempt).orElse(1);
        return new RunContext(task, id, attempt, maxRuns, bridge);
    }

    @Override
    public void progress(long current, long total, String message) {
        bridge.progress(List.of(id, current, total, message == null ? "" : message));
    }
}
