package dev.taskpool.cli;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %vmsg} in logback.xml: a log line's message with its control characters made visible
 * ({@link Visible}, newlines kept). Workers log task errors and names that producers wrote, and
 * those lines go to the operator's terminal as much as {@code watch} does.
 */
public final class VisibleMessage extends MessageConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return Visible.lines(super.convert(event));
    }
}
