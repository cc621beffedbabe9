package dev.taskpool.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * The log lines of this process held back while a display redraws itself in place (the demo's
 * progress block): printed on their own by the logger, they would land in the middle of the block
 * and the next redraw would overwrite them or move the block down. While held, the lines wait here
 * and the display prints them above the block when it redraws; {@link #close()} gives the log
 * back its own appenders. Without logback (an application that embeds this differently) nothing
 * is held.
 */
final class HeldLogs implements AutoCloseable {
    /** The most lines kept between two redraws; older ones are counted, not kept. */
    private static final int MAX_HELD = 500;

    private final Logger root;
    private final List<Appender<ILoggingEvent>> detached = new ArrayList<>();
    private final Holder holder;

    private HeldLogs(Logger root, Holder holder) {
        this.root = root;
        this.holder = holder;
    }

    /** Starts holding back every log line of this process. */
    static HeldLogs hold() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return new HeldLogs(null, null);
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        // one line each: a stack trace would break the display as much as the line itself did
        layout.setPattern("%d{HH:mm:ss.SSS} %-5level %-12.-12logger{0} %msg%nopex");
        layout.start();
        Holder holder = new Holder(layout);
        holder.setContext(context);
        holder.setName("held");
        holder.start();
        HeldLogs held = new HeldLogs(root, holder);
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            held.detached.add(it.next());
        }
        root.addAppender(holder);
        held.detached.forEach(root::detachAppender);
        return held;
    }

    /** The lines logged since the last call, oldest first, each one line with its control characters made visible. */
    List<String> take() {
        List<String> lines = new ArrayList<>();
        if (holder == null) {
            return lines;
        }
        int skipped = holder.skipped.getAndSet(0);
        if (skipped > 0) {
            lines.add("(" + skipped + " more log line" + (skipped == 1 ? "" : "s") + ")");
        }
        for (String line = holder.lines.poll(); line != null; line = holder.lines.poll()) {
            holder.count.decrementAndGet();
            lines.add(line);
        }
        return lines;
    }

    @Override
    public void close() {
        if (root == null) {
            return;
        }
        detached.forEach(root::addAppender);
        root.detachAppender(holder);
        holder.stop();
    }

    private static final class Holder extends AppenderBase<ILoggingEvent> {
        private final PatternLayout layout;
        private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
        private final AtomicInteger count = new AtomicInteger();
        private final AtomicInteger skipped = new AtomicInteger();

        Holder(PatternLayout layout) {
            this.layout = layout;
        }

        @Override
        protected void append(ILoggingEvent event) {
            if (count.get() >= MAX_HELD) {
                skipped.incrementAndGet();
                return;
            }
            lines.add(Visible.line(layout.doLayout(event).stripTrailing()));
            count.incrementAndGet();
        }

        @Override
        public void stop() {
            super.stop();
            layout.stop();
        }
    }
}
