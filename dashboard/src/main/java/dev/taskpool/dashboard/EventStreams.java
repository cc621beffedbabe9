package dev.taskpool.dashboard;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /events[?task=T[&id=N]]}: one browser's Server-Sent Events, written from its
 * {@link EventFanout.Listener} until the browser leaves.
 *
 * <p>A browser that stops reading fills its socket's buffers, and then the write to it blocks. A
 * watchdog drops such a stream once one write has been blocked for {@link #STALL_LIMIT}: it
 * interrupts the writing thread, which closes the connection (the JDK's socket channels close when
 * a thread blocked on them is interrupted). Until then the browser's queue holds at most
 * {@link EventFanout#QUEUE_BYTE_BUDGET}. A browser that comes back reconnects by itself (the
 * stream's {@code retry:} line) and reloads what it shows.
 */
final class EventStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventStreams.class);
    /** How often an idle event stream gets a comment line, so a browser that left is noticed (and proxies keep it open). */
    static final Duration KEEP_ALIVE = Duration.ofSeconds(15);
    /** How long one write to a browser may stay blocked before the stream is dropped. */
    static final Duration STALL_LIMIT = Duration.ofSeconds(20);

    /** One open stream: the thread writing it, and since when its current write is blocked (0: not writing). */
    private static final class Writer {
        final Thread thread = Thread.currentThread();
        volatile long writingSinceNanos;
        volatile boolean dropped;
    }

    private final EventFanout events;
    private final Set<Writer> writers = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService watchdog;
    private volatile Duration keepAlive = KEEP_ALIVE;
    private volatile Duration stallLimit = STALL_LIMIT;

    EventStreams(EventFanout events) {
        this.events = events;
        this.watchdog = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("dashboard-stalled-streams").factory());
        watchdog.scheduleWithFixedDelay(this::dropStalled, 1, 1, TimeUnit.SECONDS);
    }

    void keepAliveEvery(Duration interval) {
        this.keepAlive = interval;
    }

    void dropWhenStalledFor(Duration limit) {
        this.stallLimit = limit;
    }

    void handle(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestMethod().equals("GET")) {
            HttpIo.error(exchange, 405, "the event stream is GET /events[?task=T[&id=N]]");
            return;
        }
        Map<String, String> query = HttpIo.query(exchange);
        String task;
        Long id;
        try {
            task = query.containsKey("task") ? ApiHandler.kind(query.get("task")) : null;
            id = query.containsKey("id") ? ApiHandler.id(String.valueOf(task), query.get("id")) : null;
            if (id != null && task == null) {
                throw new HttpIo.BadRequest("id=" + id + " needs task=T too: ids are per kind");
            }
        } catch (HttpIo.BadRequest e) {
            HttpIo.error(exchange, 400, e.getMessage());
            return;
        }
        EventFanout.Listener listener = events.listen(task, id);
        Writer writer = new Writer();
        writers.add(writer);
        try {
            HttpIo.secureHeaders(exchange.getResponseHeaders());
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            exchange.getResponseHeaders().set("X-Accel-Buffering", "no");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            // subscribed before this line: the page may now read state and never miss a later change
            write(writer, out, "retry: 2000\nevent: hello\ndata: {}\n\n");
            while (true) {
                EventFanout.Event event = listener.next(keepAlive.toMillis());
                if (event == null) {
                    write(writer, out, ": keep-alive\n\n");
                } else if (event == EventFanout.Event.CLOSED) {
                    write(writer, out, "event: closed\ndata: {}\n\n");
                    return;
                } else {
                    write(writer, out, "event: " + event.name() + "\ndata: " + event.json() + "\n\n");
                }
            }
        } catch (InterruptedException e) {
            if (!writer.dropped) {
                Thread.currentThread().interrupt();
            }
        } catch (IOException e) {
            if (!writer.dropped) {
                throw e;
            }
        } finally {
            writers.remove(writer);
            events.stopListening(listener);
            if (writer.dropped) {
                Thread.interrupted();   // the interrupt did its work (the connection is closed); the exchange may now be closed
            }
        }
    }

    private static void write(Writer writer, OutputStream out, String text) throws IOException {
        writer.writingSinceNanos = System.nanoTime();
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } finally {
            writer.writingSinceNanos = 0;
        }
    }

    private void dropStalled() {
        long now = System.nanoTime();
        for (Writer writer : writers) {
            long since = writer.writingSinceNanos;
            if (since != 0 && now - since > stallLimit.toNanos() && !writer.dropped) {
                writer.dropped = true;
                log.info("dropping an event stream: its browser has read nothing for {} s (it reconnects when it reads again)",
                        stallLimit.toSeconds());
                writer.thread.interrupt();
            }
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
    }
}
