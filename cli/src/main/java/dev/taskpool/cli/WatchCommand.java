package dev.taskpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.Durations;
import dev.taskpool.core.UnknownTaskException;
import dev.taskpool.core.connect.AclRefusal;
import dev.taskpool.core.connect.EventChannels;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskEvent;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.ops.EveryKindEvents;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.ops.TaskReads;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code taskpool watch [TASK [ID]]}: live counts, progress bars of the running tasks and events
 * as they happen, until Ctrl-C. On a terminal the screen is redrawn in place; otherwise (piped,
 * redirected) every event is a line of its own and the counts a line whenever they change; with
 * {@code --json} each of those is one JSON object per line. Events come from Redis pub/sub (the
 * same messages the workers publish); counts and running tasks are read every {@code --refresh}.
 * A kind whose counts cannot be read (a key of the wrong type, written by hand) is shown as
 * {@code taskpool stats} shows it, naming the key, and the watch goes on: the other kinds are
 * shown, and the kind's counts come back once the key is repaired.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Watch live: counts, progress bars of running tasks and events as they happen, until Ctrl-C."
                + " With TASK only that kind; with TASK ID one task, until it ends (no app directory needed).")
final class WatchCommand implements Runnable {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final int RECENT_EVENTS = 15;
    /** The most often the screen is redrawn: a burst of events costs one redraw per interval. */
    private static final long REDRAW_NANOS = Duration.ofMillis(100).toNanos();
    /** Events received and not printed yet, at most: beyond, the oldest progress events are dropped. */
    static final int QUEUE_CAPACITY = 10_000;

    @Mixin
    Options.RedisOption redis;
    @Mixin
    Options.JsonOption output;

    @Parameters(index = "0", paramLabel = "TASK", arity = "0..1", description = "only this kind")
    String task;

    @Parameters(index = "1", paramLabel = "ID", arity = "0..1", description = "only this task, until it ends")
    Long id;

    @Option(names = "--refresh", paramLabel = "DURATION", converter = Options.DurationConverter.class, defaultValue = "1s",
            description = "how often counts and running tasks are read (default ${DEFAULT-VALUE})")
    Duration refresh;

    @Option(names = "--for", paramLabel = "DURATION", converter = Options.DurationConverter.class,
            description = "stop after this long (default: until Ctrl-C)")
    Duration limit;

    @Option(names = "--events", paramLabel = "N", description = "stop after N events (default: until Ctrl-C)")
    Integer maxEvents;

    private Terminal terminal;
    private TaskOperations operations;
    private final EventQueue arrived = new EventQueue(QUEUE_CAPACITY);
    private final ProgressOrder order = new ProgressOrder();
    private final Deque<String> recent = new ArrayDeque<>();
    private WatchCounts counts;
    private long redrawnAt;
    private boolean redrawDue;

    @Override
    public void run() {
        if (refresh.isNegative() || refresh.isZero()) {
            throw new IllegalArgumentException("--refresh must be longer than 0, got " + Durations.text(refresh));
        }
        if (maxEvents != null && maxEvents < 1) {
            throw new IllegalArgumentException("--events must be at least 1, got " + maxEvents);
        }
        terminal = Terminal.stdout();
        try (RedisConnector connector = redis.connect()) {
            operations = new TaskOperations(connector);
            counts = new WatchCounts(operations, task);
            if (task != null) {
                operations.overview(task);   // an unknown kind is an error naming it, before anything is printed
            }
            if (id != null) {
                try (EventChannels events = new EventChannels(connector)) {
                    watchOne(connector, events);
                }
            } else {
                // every kind's, one kind's picked from them (in a Cluster, that kind's alone): see EveryKindEvents
                try (EveryKindEvents events = EveryKindEvents.follow(connector, task, this::arrivedOnKind)) {
                    watchKinds();
                }
            }
        }
    }

    // ---- One task: its record, then its events until it ends ----

    private void watchOne(RedisConnector connector, EventChannels events) {
        TaskReads reads = new TaskReads(connector);
        // (a partitioned kind's task: the channel of the partition that holds it)
        String channel = Keys.of(reads.partitionOf(task, id)).events(id);
        try {
            // before the first read: once Redis confirmed (it has, unless it did not answer within the
            // command timeout: then the subscription is made when it is back), no event falls in
            // between; add only queues (on the I/O thread)
            events.subscribe(channel, (ignored, message) -> arrived.add(message));
        } catch (RuntimeException e) {
            throw AclRefusal.ofSubscription(e, connector.user(), channel);
        }
        TaskInfo info = reads.get(task, id).orElseThrow(() -> new UnknownTaskException(
                "task " + task + " #" + id + " does not exist (never added, or expired after its retention)"));
        printState(info);
        if (info.status().isFinished()) {
            return;
        }
        long deadline = deadline();
        int seen = 0;
        while (System.nanoTime() < deadline) {
            JsonNode event = poll(Math.min(deadline - System.nanoTime(), refresh.toNanos()));
            printDropped(false);
            if (event == null || !order.accept(event)) {
                continue;
            }
            printEvent(event);
            seen++;
            if (EventQueue.endsTask(event.path("event").asText()) || (maxEvents != null && seen >= maxEvents)) {
                return;
            }
        }
    }

    private void printState(TaskInfo info) {
        if (output.json) {
            ObjectNode state = info.toJson();
            state.put("event", "state");
            terminal.out().println(TerminalJson.compact(state));
            return;
        }
        String status = terminal.paint(info.status().name(), Terminal.styleOf(info.status().name()));
        String detail = switch (info.status()) {
            case RUNNING -> " run " + info.attempt() + " " + Human.bar(info.current(), info.total(), 20) + " "
                    + Visible.line(info.message());
            case FAILURE -> " " + Visible.line(info.error());
            case SUCCESS -> " " + (info.response() == null ? "" : Human.shorten(TerminalJson.compact(info.response()), 200));
            case WAITING -> "";
        };
        terminal.out().println("task " + Visible.line(task) + " #" + id + ": " + status + detail.stripTrailing());
    }

    // ---- Kinds: counts, running tasks, events ----

    private void watchKinds() {
        long deadline = deadline();
        long nextRead = 0;
        int seen = 0;
        while (true) {
            long now = System.nanoTime();
            boolean screen = terminal.interactive() && !output.json;
            if (now >= nextRead) {
                counts.read();
                if (screen) {
                    redrawDue = true;
                } else {
                    counts.printChanged(terminal, output.json);
                }
                nextRead = now + refresh.toNanos();
            }
            if (redrawDue && now - redrawnAt >= REDRAW_NANOS) {
                redraw();
                redrawnAt = now;
                redrawDue = false;
            }
            if (now >= deadline) {
                return;
            }
            long wait = Math.min(deadline, nextRead) - now;
            JsonNode event = poll(redrawDue ? Math.min(wait, REDRAW_NANOS) : wait);
            if (printDropped(screen)) {
                redrawDue = true;
            }
            if (event == null || !order.accept(event)) {
                continue;
            }
            if (screen) {
                // A progress event moves the task's bar in the running table (through the order it
                // was accepted in); the others are listed.
                if (!event.path("event").asText().equals(TaskEvent.PROGRESS)) {
                    remember(eventLine(event));
                }
                redrawDue = true;
            } else {
                printEvent(event);
            }
            seen++;
            if (maxEvents != null && seen >= maxEvents) {
                return;
            }
        }
    }

    /** A message of every kind's events: kept when no TASK was named, else when it is that kind's. */
    private void arrivedOnKind(String kind, String channel, String message) {
        if (task == null || task.equals(kind) || inPartition(channel)) {
            arrived.add(message);
        }
    }

    /** Whether {@code channel} is of the one partition TASK names ({@code watch mail~2}). */
    private boolean inPartition(String channel) {
        if (task.indexOf(Keys.PARTITION_MARK) < 0) {
            return false;
        }
        Keys partition = Keys.of(task);
        return channel.startsWith(partition.eventsPrefix()) || channel.equals(partition.control());
    }

    private void redraw() {
        StringBuilder screen = new StringBuilder("\u001b[H\u001b[2J");
        screen.append(terminal.paint("taskpool watch", Terminal.Style.BOLD)).append("  ")
                .append(LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss"))).append("  (Ctrl-C to stop)\n\n");
        counts.draw(screen, terminal);
        screen.append('\n').append(terminal.paint("running", Terminal.Style.BOLD)).append('\n');
        List<TaskInfo> running = counts.running();
        if (running.isEmpty()) {
            screen.append("  none\n");
        } else {
            Table table = new Table("TASK", "ID>", "RUN>", "PROGRESS", "FOR>", "MESSAGE");
            long now = System.currentTimeMillis();
            for (TaskInfo info : running) {
                if (order.ended(info.task(), info.id())) {
                    continue;   // its end arrived after the read: it is not running any more
                }
                // the newer of the read and the latest progress event: a bar never goes back
                JsonNode live = order.progress(info.task(), info.id());
                if (live != null && live.path("current").asLong() < info.current()) {
                    live = null;
                }
                long current = live == null ? info.current() : live.path("current").asLong();
                long total = live == null ? info.total() : live.path("total").asLong();
                String message = live == null ? info.message() : live.path("message").asText("");
                table.row().cell(info.task()).cell(info.id()).cell(info.attempt())
                        .cell(Human.bar(current, total, 20), Terminal.Style.CYAN)
                        .cell(info.startedAt() == null ? "-" : Human.duration(now - info.startedAt()))
                        .cell(Human.shorten(message, 60));
            }
            table.render(terminal).forEach(line -> screen.append("  ").append(line).append('\n'));
        }
        screen.append('\n').append(terminal.paint("events", Terminal.Style.BOLD)).append('\n');
        recent.forEach(line -> screen.append("  ").append(line).append('\n'));
        terminal.out().print(screen);
        terminal.out().flush();
    }

    private void remember(String line) {
        recent.addLast(line);
        while (recent.size() > RECENT_EVENTS) {
            recent.removeFirst();
        }
    }

    private void printEvent(JsonNode event) {
        terminal.out().println(output.json ? TerminalJson.compact(event) : eventLine(event));
        terminal.out().flush();
    }

    /**
     * One event as a line: time, task #id, event, and what it carries (progress, error, response,
     * who). Everything taken from the event is made visible ({@link Visible}): producers and
     * operators wrote it, and it must not drive the terminal.
     */
    String eventLine(JsonNode event) {
        String name = Visible.line(event.path("event").asText("?"));
        long at = event.path("at").asLong(System.currentTimeMillis());
        StringBuilder line = new StringBuilder(time(at)).append(' ').append(Visible.line(event.path("task").asText()));
        if (event.has("id")) {
            line.append(" #").append(event.path("id").asLong());
        }
        line.append(' ').append(terminal.paint(name, styleOfEvent(name)));
        switch (name) {
            case "progress" -> line.append(' ').append(Human.bar(event.path("current").asLong(), event.path("total").asLong(), 20))
                    .append(' ').append(Human.shorten(event.path("message").asText(""), 80));
            case "started" -> line.append(" run ").append(event.path("attempt").asInt()).append(" on ")
                    .append(Visible.line(event.path("worker").asText()));
            // The run that failed (or was lost); a worker's retry says when the next run is due.
            case "retry" -> line.append(" run ").append(event.path("attempt").asInt()).append(" failed")
                    .append(event.has("due_at") ? ", next in " + Human.duration(event.path("due_at").asLong() - at) : "")
                    .append(": ").append(Human.shorten(event.path("error").asText(""), 80));
            case "failure", "canceled" -> line.append(' ').append(Human.shorten(event.path("error").asText(""), 100));
            case "success" -> line.append(' ').append(Human.shorten(TerminalJson.compact(event.path("response")), 100));
            case "resubmitted" -> line.append(event.has("count") ? " " + event.path("count").asLong() + " task(s)" : "");
            case "unreadable" -> line.append(' ').append(Human.shorten(event.path("text").asText(""), 100));
            default -> { }
        }
        if (event.hasNonNull("by") && !event.path("by").asText().isEmpty()) {
            line.append(" by ").append(Human.shorten(event.path("by").asText(), 100));
        }
        return line.toString().stripTrailing();
    }

    /**
     * Says how many events were dropped since the last time because the watch fell behind (as a
     * line, a JSON object or on the screen); whether there were any.
     */
    private boolean printDropped(boolean screen) {
        long dropped = arrived.takeDropped();
        if (dropped == 0) {
            return false;
        }
        if (output.json) {
            ObjectNode node = Json.NODES.objectNode();
            node.put("event", "dropped");
            node.put("count", dropped);
            node.put("at", System.currentTimeMillis());
            terminal.out().println(TerminalJson.compact(node));
        } else {
            String line = time(System.currentTimeMillis()) + " watch fell behind: " + dropped + " event"
                    + (dropped == 1 ? "" : "s") + " dropped (progress first; the counts are read from Redis and stay right)";
            if (screen) {
                remember(line);
            } else {
                terminal.out().println(line);
            }
        }
        terminal.out().flush();
        return true;
    }

    private static Terminal.Style styleOfEvent(String name) {
        return switch (name) {
            case "success" -> Terminal.Style.GREEN;
            case "failure", "canceled", "cancel" -> Terminal.Style.RED;
            case "started", "progress" -> Terminal.Style.CYAN;
            case "retry", "requeued", "paused", "resubmitted", "promoted" -> Terminal.Style.YELLOW;
            default -> null;
        };
    }

    static String time(long epochMs) {
        return LocalTime.ofInstant(Instant.ofEpochMilli(epochMs), ZoneId.systemDefault()).format(CLOCK);
    }

    private long deadline() {
        return limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
    }

    private JsonNode poll(long nanos) {
        try {
            return arrived.poll(Math.max(0, nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while watching", e);
        }
    }
}
