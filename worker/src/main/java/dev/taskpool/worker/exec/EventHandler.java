package dev.taskpool.worker.exec;

import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.worker.runtime.AppRuntime;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a task's {@code success}/{@code error} handler the same way wherever the end of the task
 * was seen (a run that ended here, or the recoverer finding a dead run out of runs): off the
 * caller's thread, as a stoppable {@link Execution} under the task's {@code timeout}, abandoned
 * like a run when it ignores its interrupt. A handler's failure is logged, never thrown.
 */
final class EventHandler {
    private static final Logger log = LoggerFactory.getLogger(EventHandler.class);

    private EventHandler() {
    }

    /**
     * Starts {@code handler} for {@code event} of task {@code #id} and returns at once; {@code then}
     * runs once the handler is over (finished, failed, stopped or abandoned), or at once when it
     * cannot start because the worker is stopping.
     */
    static void start(WorkerContext worker, AppRuntime runtime, TaskDefinition definition, String event, String handler,
                      long id, List<Object> args, Runnable then) {
        String what = "task " + definition.id() + " #" + id + ": event." + event + " handler " + handler;
        try {
            worker.processors().execute(() -> {
                try {
                    new Execution().run(worker.processors(), runtime.scripts(), definition.timeout(),
                            worker.settings().abandonAfter(), what, () -> {
                                runtime.runEvent(definition, event, handler, id, args);
                                return null;
                            });
                } catch (RuntimeException e) {
                    log.error("{} failed: {}", what, e.getMessage());
                } finally {
                    then.run();
                }
            });
        } catch (RejectedExecutionException e) {
            log.error("{} not run: the worker is stopping", what);
            then.run();
        }
    }
}
