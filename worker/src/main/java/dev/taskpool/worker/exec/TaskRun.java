package dev.taskpool.worker.exec;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.redis.FetchedTask;
import dev.taskpool.core.redis.TransitionResult;
import dev.taskpool.worker.runtime.AppRuntime;
import dev.taskpool.worker.runtime.CurrentRun;
import dev.taskpool.worker.script.JsContext;
import dev.taskpool.worker.script.ScriptError;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fetched task, from its first run to SUCCESS or FAILURE: runs the processor with
 * Resilience4j retrying per {@code attempts}/{@code attempt_after}, stops each run at
 * {@code timeout} (interrupting the script, not just giving up on it), records every transition
 * through the lease-guarded scripts and runs the {@code success}/{@code error} events.
 */
final class TaskRun implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TaskRun.class);
    private static final Duration INTERRUPT_LIMIT = Duration.ofSeconds(2);

    enum StopReason { TIMEOUT, LEASE_LOST, SHUTDOWN }

    private final TaskDefinition definition;
    private final AppRuntime runtime;
    private final WorkerSettings settings;
    private final ScheduledExecutorService timers;
    private final Runnable onEnd;
    private final Object lock = new Object();

    private volatile FetchedTask current;
    private volatile StopReason stopReason;
    private Thread thread;
    private JsContext context;
    private boolean attemptActive;
    private String lastError;

    TaskRun(FetchedTask fetched, TaskDefinition definition, AppRuntime runtime, WorkerSettings settings,
            ScheduledExecutorService timers, Runnable onEnd) {
        this.current = fetched;
        this.definition = definition;
        this.runtime = runtime;
        this.settings = settings;
        this.timers = timers;
        this.onEnd = onEnd;
    }

    /** The run's current lease (its token changes with each retry). */
    FetchedTask lease() {
        return current;
    }

    long id() {
        return current.id();
    }

    @Override
    public void run() {
        try {
            List<Object> args = parseArgs();
            Object response = runWithRetries(args);
            finish(TaskStatus.SUCCESS, response, null);
        } catch (RunStoppedException e) {
            if (stopReason == StopReason.SHUTDOWN) {
                handBack();
            } else {
                log.warn("task {} #{}: {}", definition.id(), id(), e.getMessage());
            }
        } catch (RuntimeException e) {
            if (stopReason == StopReason.SHUTDOWN) {
                handBack();
            } else if (stopReason == StopReason.LEASE_LOST) {
                log.warn("task {} #{}: stopped, its lease was lost", definition.id(), id());
            } else {
                finish(TaskStatus.FAILURE, null, messageOf(e));
            }
        } finally {
            Thread.interrupted();
            onEnd.run();
        }
    }

    private Object runWithRetries(List<Object> args) {
        int runsLeft = Math.max(1, definition.maxRuns() - current.attempt() + 1);
        RetryConfig config = RetryConfig.custom()
                .maxAttempts(runsLeft)
                .waitDuration(definition.attemptAfter())
                .retryOnException(error -> !(error instanceof RunStoppedException) && stopReason == null)
                .build();
        Retry retry = Retry.of(definition.id() + "#" + id(), config);
        AtomicInteger invocations = new AtomicInteger();
        return Retry.decorateSupplier(retry, () -> {
            if (invocations.getAndIncrement() > 0) {
                startNextRun();
            }
            return runOnce(args);
        }).get();
    }

    /** Runs the processor once, under the run's timeout. */
    private Object runOnce(List<Object> args) {
        if (stopReason != null) {
            throw new RunStoppedException("run stopped: " + stopReason);
        }
        List<Object> callArgs = new ArrayList<>(args.size() + 1);
        callArgs.add(id());
        callArgs.addAll(args);
        ScheduledFuture<?> timer = timers.schedule(() -> stop(StopReason.TIMEOUT),
                definition.timeout().toMillis(), TimeUnit.MILLISECONDS);
        try (CurrentRun.Scope ignored = CurrentRun.enter(definition.id(), id())) {
            return runtime.scripts().withContext(js -> {
                synchronized (lock) {
                    thread = Thread.currentThread();
                    context = js;
                    attemptActive = true;
                }
                try {
                    Object result = runtime.call(definition.process(), callArgs);
                    if (stopReason != null) {
                        // The script swallowed its interrupt and returned: the run still ended by the stop.
                        throw new RunStoppedException("run stopped: " + stopReason);
                    }
                    return result;
                } finally {
                    synchronized (lock) {
                        attemptActive = false;
                        context = null;
                    }
                    Thread.interrupted();
                }
            });
        } catch (RuntimeException e) {
            StopReason reason = stopReason;
            if (reason == StopReason.TIMEOUT) {
                stopReason = null;
                lastError = "timeout: run " + current.attempt() + " took longer than " + definition.timeout().toSeconds()
                        + "s and was stopped";
                throw new TaskpoolException(lastError, e);
            }
            if (reason != null) {
                throw new RunStoppedException("run stopped: " + reason);
            }
            lastError = messageOf(e);
            throw e;
        } finally {
            timer.cancel(false);
        }
    }

    /**
     * Stops the current run from another thread: the script is interrupted at its next
     * safepoint, a sleeping or waiting host call is interrupted, and the slot is freed when the
     * run thread returns.
     */
    void stop(StopReason reason) {
        synchronized (lock) {
            if (!attemptActive || stopReason != null) {
                if (reason != StopReason.TIMEOUT && stopReason == null) {
                    stopReason = reason;  // between runs: the next one will not start
                }
                return;
            }
            stopReason = reason;
            thread.interrupt();
            if (context != null) {
                context.markBroken();  // its script state may be half-updated: never reuse it
                if (!context.interrupt(INTERRUPT_LIMIT)) {
                    log.error("task {} #{}: the script did not stop within {}s of its interrupt; its context was closed",
                            definition.id(), id(), INTERRUPT_LIMIT.toSeconds());
                }
            }
        }
    }

    private void startNextRun() {
        FetchedTask failed = current;
        FetchedTask next = new FetchedTask(failed.task(), failed.id(), failed.attempt() + 1, failed.args(),
                settings.workerId() + "/" + (failed.attempt() + 1));
        long now = runtime.clock().millis();
        var message = TaskEvent.message(TaskEvent.RETRY, definition.id(), id(), TaskStatus.RUNNING, now);
        message.put("attempt", next.attempt());
        message.put("error", lastError);
        TransitionResult result = runtime.store().await(runtime.store().retry(failed, next, String.valueOf(lastError), now,
                now + settings.lease().toMillis(), message.toString()), "record a retry of task " + definition.id() + " #" + id());
        if (result != TransitionResult.DONE) {
            stopReason = StopReason.LEASE_LOST;
            throw new RunStoppedException("cannot retry: " + result);
        }
        current = next;
        log.info("task {} #{}: run {} failed ({}), starting run {}", definition.id(), id(), failed.attempt(), lastError,
                next.attempt());
    }

    private void finish(TaskStatus status, Object response, String error) {
        long now = runtime.clock().millis();
        var message = TaskEvent.message(status == TaskStatus.SUCCESS ? TaskEvent.SUCCESS : TaskEvent.FAILURE,
                definition.id(), id(), status, now);
        message.put("attempt", current.attempt());
        String payload;
        if (status == TaskStatus.SUCCESS) {
            JsonNode responseNode = Json.toNode(response);
            message.set("response", responseNode);
            payload = responseNode.toString();
        } else {
            message.put("error", error);
            payload = error;
        }
        TransitionResult result;
        try {
            result = runtime.store().await(runtime.store().complete(current, status, payload, now, definition.keep(),
                    message.toString()), "complete task " + definition.id() + " #" + id());
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not record {}: {}; the recoverer will run it again", definition.id(), id(),
                    status, e.getMessage());
            return;
        }
        if (result != TransitionResult.DONE) {
            log.warn("task {} #{}: finished as {} but not recorded: {}", definition.id(), id(), status, result);
            return;
        }
        if (status == TaskStatus.SUCCESS) {
            log.debug("task {} #{}: SUCCESS after {} run(s)", definition.id(), id(), current.attempt());
            runtime.runEvent(definition, "success", definition.events().success(), id(), listOf(id(), response));
        } else {
            log.warn("task {} #{}: FAILURE after {} run(s): {}", definition.id(), id(), current.attempt(), error);
            runtime.runEvent(definition, "error", definition.events().error(), id(), listOf(id(), new ScriptError(error)));
        }
    }

    private void handBack() {
        try {
            TransitionResult result = runtime.store().await(runtime.store().release(current, runtime.clock().millis()),
                    "hand task " + definition.id() + " #" + id() + " back");
            log.info("task {} #{}: handed back to the queue ({})", definition.id(), id(), result);
        } catch (RuntimeException e) {
            log.error("task {} #{}: could not hand it back ({}); the recoverer will", definition.id(), id(), e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private List<Object> parseArgs() {
        JsonNode node = Json.read(current.args() == null ? "null" : current.args(),
                "task " + definition.id() + " #" + id() + ": field 'args'");
        if (!node.isArray()) {
            throw new TaskpoolException("task " + definition.id() + " #" + id() + ": field 'args' must hold a JSON array, got "
                    + node.getNodeType().name().toLowerCase());
        }
        return (List<Object>) Json.toJava(node);
    }

    private static List<Object> listOf(Object... values) {
        return java.util.Arrays.asList(values);
    }

    private static String messageOf(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
