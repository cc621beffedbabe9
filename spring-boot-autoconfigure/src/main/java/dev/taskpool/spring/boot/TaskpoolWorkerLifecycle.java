package dev.taskpool.spring.boot;

import dev.taskpool.core.Durations;
import dev.taskpool.worker.EmbeddedWorker;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.env.Environment;

/**
 * The embedded worker as a lifecycle bean of the application context ({@code taskpool.worker.enabled=true}).
 *
 * <p>It starts when the context refreshes, in phase {@link #PHASE}: after every singleton exists (so
 * every {@code @TaskProcessor} bean is found), before the application's runners run and before the
 * web server takes requests, so that what they add is processed and the annotated kinds are
 * published. It stops after the web server stopped taking requests, in Spring's graceful-shutdown
 * phase: the worker takes no new task, lets running ones finish for {@code taskpool.worker.shutdown-grace},
 * and hands the rest back to the queue, on a thread of its own, so that Spring waits for it up to
 * {@code spring.lifecycle.timeout-per-shutdown-phase}.
 */
public class TaskpoolWorkerLifecycle implements SmartLifecycle {
    /**
     * Below the web server's phases ({@code WebServerStartStopLifecycle}: {@code DEFAULT_PHASE - 2048};
     * its graceful shutdown: {@code DEFAULT_PHASE - 1024}): lower phases start first and stop last,
     * so the worker runs before requests are served and until the last request was answered.
     */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;
    /** Spring's own default of {@code spring.lifecycle.timeout-per-shutdown-phase}. */
    private static final Duration SPRING_PHASE_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger log = LoggerFactory.getLogger(TaskpoolWorkerLifecycle.class);

    private final TaskpoolProperties properties;
    private final ListableBeanFactory beans;
    private final ObjectProvider<TaskpoolWorkerCustomizer> customizers;
    private final Environment environment;
    private final Object lock = new Object();
    private volatile EmbeddedWorker worker;
    /** Whether the last build found no {@code @TaskProcessor} bean and no app directory (said when the start fails). */
    private boolean noProcessorsNorApp;

    public TaskpoolWorkerLifecycle(TaskpoolProperties properties, ListableBeanFactory beans,
                                   ObjectProvider<TaskpoolWorkerCustomizer> customizers, Environment environment) {
        this.properties = properties;
        this.beans = beans;
        this.customizers = customizers;
        this.environment = environment;
    }

    /** Builds and starts the worker: a bad definition or an unreachable Redis fails the context's refresh. */
    @Override
    public void start() {
        synchronized (lock) {
            if (worker != null) {
                return;
            }
            warnWhenTheGraceOutlastsTheShutdownPhase();
            EmbeddedWorker.Builder builder = builder();
            try {
                worker = builder.start();   // (it logs what it serves, and where)
            } catch (RuntimeException e) {
                if (noProcessorsNorApp) {
                    // (e.g. "nothing to run": say what a Spring application sets for it)
                    throw new IllegalStateException(e.getMessage() + " (taskpool.worker.enabled=true, but no bean has"
                            + " @TaskProcessor methods and taskpool.app-directory is not set)", e);
                }
                throw e;
            }
        }
    }

    private EmbeddedWorker.Builder builder() {
        TaskpoolProperties.Worker settings = properties.getWorker();
        EmbeddedWorker.Builder builder = EmbeddedWorker.builder(properties.getRedisUrl())
                .commandTimeout(properties.getCommandTimeout())
                .tls(TaskpoolAutoConfiguration.redisTls(properties))
                .settings(s -> s.withShutdownGrace(settings.getShutdownGrace()));
        if (properties.getAppDirectory() != null) {
            builder.appDirectory(properties.getAppDirectory());
        }
        if (!settings.getTasks().isEmpty()) {
            builder.tasks(settings.getTasks().toArray(String[]::new));
        }
        settings.getWorkerNums().forEach(builder::workerNums);
        List<Object> processors = TaskProcessorBeans.in(beans);
        processors.forEach(builder::processors);
        noProcessorsNorApp = processors.isEmpty() && properties.getAppDirectory() == null;
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder;
    }

    /**
     * Spring stops waiting for a phase after its timeout: a grace as long would let the context
     * close under running tasks (they are not lost: their leases expire and they run again, later).
     */
    private void warnWhenTheGraceOutlastsTheShutdownPhase() {
        Duration grace = properties.getWorker().getShutdownGrace();
        Duration phaseTimeout = SPRING_PHASE_TIMEOUT;
        String given = environment.getProperty("spring.lifecycle.timeout-per-shutdown-phase");
        if (given != null && !given.isBlank()) {
            try {
                phaseTimeout = DurationStyle.detectAndParse(given.trim());   // (as Boot reads it: "30s", "PT30S", "30000")
            } catch (IllegalArgumentException e) {
                return;   // Boot's own binding of the setting names that mistake
            }
        }
        if (grace.compareTo(phaseTimeout) >= 0) {
            log.warn("taskpool.worker.shutdown-grace={} is not below spring.lifecycle.timeout-per-shutdown-phase={}: Spring may"
                    + " close the context before running tasks are handed back (they then run again once their lease expires)",
                    Durations.text(grace), Durations.text(phaseTimeout));
        }
    }

    /** Stops the worker and waits for it (a context that calls {@link #stop(Runnable)} does not wait here). */
    @Override
    public void stop() {
        EmbeddedWorker stopping = detach();
        if (stopping != null) {
            stopping.close();
        }
    }

    /**
     * Drains the worker on a thread of its own and then tells Spring, which waits for that up to
     * {@code spring.lifecycle.timeout-per-shutdown-phase} while stopping the other beans of this phase.
     */
    @Override
    public void stop(Runnable callback) {
        EmbeddedWorker stopping = detach();
        if (stopping == null) {
            callback.run();
            return;
        }
        Thread.ofPlatform().name("taskpool-worker-stop").start(() -> {
            try {
                stopping.close();
            } catch (RuntimeException e) {
                log.error("taskpool worker {} did not stop cleanly: {}", stopping.workerId(), e.getMessage(), e);
            } finally {
                callback.run();
            }
        });
    }

    private EmbeddedWorker detach() {
        synchronized (lock) {
            EmbeddedWorker running = worker;
            worker = null;
            return running;
        }
    }

    @Override
    public boolean isRunning() {
        return worker != null;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    /** The running worker (e.g. to {@code call} a process as a script would); empty before start and after stop. */
    public Optional<EmbeddedWorker> worker() {
        return Optional.ofNullable(worker);
    }

    /** Runs in progress in this worker now (0 when it is not running). */
    public int runningCount() {
        EmbeddedWorker running = worker;
        return running == null ? 0 : running.runningCount();
    }
}
