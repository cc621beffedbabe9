package dev.taskpool.worker.exec;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.run.FetchedTask;
import dev.taskpool.core.run.TransitionResult;
import dev.taskpool.worker.script.ScriptError;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's result after it went to the pump ({@link RunState#FINISHING}): Redis's answer, the result
 * recorded alone should the batched round trip fail, then ({@link RunState#RECORDED}) the task's
 * {@code success}/{@code error} handler ({@link RunState#HANDLING}), then the run's end. All of it
 * happens off the run's thread, whose slot is already free.
 */
final class RunResult {
    private static final Logger log = LoggerFactory.getLogger(TaskRun.class);   // (the run's own log)

    private final RunKind kind;
    private final TaskDefinition definition;
    private final long id;
    private final RunState.Machine state;
    private final Runnable leave;
    private final FetchedTask lease;
    private final TaskStatus status;
    private final Object response;
    private final String error;
    private final String payload;

    RunResult(RunKind kind, long id, RunState.Machine state, Runnable leave, FetchedTask lease, TaskStatus status,
              Object response, String error, String payload) {
        this.kind = kind;
        this.definition = kind.definition();
        this.id = id;
        this.state = state;
        this.leave = leave;
        this.lease = lease;
        this.status = status;
        this.response = response;
        this.error = error;
        this.payload = payload;
    }

    /** Waits (without blocking) for the pump's answer; records the result alone should that round trip fail. */
    void follow(CompletableFuture<TransitionResult> batched) {
        batched.whenComplete((result, failure) -> {
            if (failure == null) {
                recorded(result);
            } else {
                // Recording it alone retries with back-off: never on the thread that answered.
                if (!kind.threads().startRecording(this::recordAlone)) {
                    log.error("task {} #{}: could not record {}: the worker has stopped; once its lease expires it runs again",
                            definition.id(), id, status);
                    leave.run();
                }
            }
        });
    }

    private void recordAlone() {
        TransitionResult result;
        try {
            result = kind.transitions().persist("complete", id, () -> kind.runtime().runs().complete(lease, status, payload,
                    kind.runtime().clock().millis(), definition.keep()));
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not record {}: {}; once its lease expires it runs again", definition.id(), id,
                    status, e.getMessage());
            leave.run();
            return;
        }
        recorded(result);
    }

    /**
     * Redis has the result: its success/error handler runs (on a thread of its own, under the
     * task's timeout), then the run ends; a worker that stops gracefully waits for both.
     */
    private void recorded(TransitionResult result) {
        state.transition(RunState.FINISHING, RunState.RECORDED);   // (refused when a stopping worker left it meanwhile)
        if (result != TransitionResult.DONE) {
            log.warn("task {} #{}: finished as {} but not recorded: {}", definition.id(), id, status, result);
            leave.run();
            return;
        }
        if (status == TaskStatus.SUCCESS) {
            kind.runtime().metrics().succeeded(definition.id());
        } else {
            kind.runtime().metrics().failed(definition.id());
        }
        String handler;
        List<Object> handlerArgs;
        if (status == TaskStatus.SUCCESS) {
            log.debug("task {} #{}: SUCCESS after {} run(s)", definition.id(), id, lease.attempt());
            handler = definition.events().success();
            handlerArgs = handler == null ? null : Arrays.asList(id, response);
        } else {
            log.warn("task {} #{}: FAILURE after {} run(s): {}", definition.id(), id, lease.attempt(), error);
            handler = definition.events().error();
            handlerArgs = handler == null ? null : Arrays.asList(id, new ScriptError(error));
        }
        if (handler == null) {
            leave.run();
            return;
        }
        state.transition(RunState.RECORDED, RunState.HANDLING);
        EventHandler.start(kind.worker(), kind.runtime(), definition, status == TaskStatus.SUCCESS ? "success" : "error", handler,
                id, handlerArgs, leave);
    }
}
