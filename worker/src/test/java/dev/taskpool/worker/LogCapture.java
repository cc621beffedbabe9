package dev.taskpool.worker;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what is logged (including scripts' console.*) while a test runs. */
public final class LogCapture implements AutoCloseable {
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public LogCapture() {
        appender.start();
        root.addAppender(appender);
    }

    public List<String> lines() {
        synchronized (appender) {   // AppenderBase appends under this lock
            return appender.list.stream().map(event -> event.getLevel() + " " + event.getFormattedMessage()).toList();
        }
    }

    /** The lines logged with a Java stack trace. */
    public List<String> linesWithStackTraces() {
        synchronized (appender) {
            return appender.list.stream().filter(event -> event.getThrowableProxy() != null)
                    .map(event -> event.getLevel() + " " + event.getFormattedMessage()).toList();
        }
    }

    public boolean contains(String text) {
        return lines().stream().anyMatch(line -> line.contains(text));
    }

    /**
     * Whether a line with {@code text} is logged within 30 s: for what happens after a task's
     * result is in Redis (its success/error handler), which a client awaiting the task can see first.
     */
    public boolean awaitContains(String text) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!contains(text)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    public long count(String text) {
        return lines().stream().filter(line -> line.contains(text)).count();
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        appender.stop();
    }
}
