package dev.taskpool.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.schedule.ScheduleOperations;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web dashboard: pages (plain HTML, CSS and JavaScript from the classpath), a JSON API under
 * {@code /api/}, and live updates at {@code /events} (Server-Sent Events) from one pub/sub
 * subscription shared by every browser. The JDK's HTTP server, one virtual thread per exchange:
 * an open event stream costs a parked virtual thread, not a platform thread.
 *
 * <p>Extra handlers (for example a Prometheus {@code /metrics}) are mounted at their paths and
 * read under the same rules as the API.
 */
public final class DashboardServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);
    private static final String RESOURCES = "/dev/taskpool/dashboard/";
    private static final Map<String, String> PAGES = Map.of(
            "/", "index.html", "/index.html", "index.html", "/app.js", "app.js", "/schedules.js", "schedules.js",
            "/flow.js", "flow.js",
            "/app.css", "app.css", "/favicon.svg", "favicon.svg");

    private final DashboardSettings settings;
    private final Access access;
    private final ApiHandler api;
    private final EventFanout events;
    private final EventStreams streams;
    private final HttpServer server;
    private final ExecutorService executor;

    public DashboardServer(RedisConnector redis, TaskOperations operations, DashboardSettings settings) {
        this(redis, operations, settings, Map.of());
    }

    /**
     * Binds and starts serving at once.
     *
     * @param extraHandlers handlers by path (e.g. {@code "/metrics"}), served next to the pages and the API
     * @throws IllegalArgumentException when the settings would expose the dashboard without a token,
     *                                  or a path of an extra handler is taken
     * @throws IllegalStateException    when the address cannot be bound (port in use)
     */
    public DashboardServer(RedisConnector redis, TaskOperations operations, DashboardSettings settings,
                           Map<String, HttpHandler> extraHandlers) {
        this.settings = settings;
        settings.requireTokenBeyondLoopback("--token");
        Map<String, HttpHandler> extras = new LinkedHashMap<>(extraHandlers);
        for (String path : extras.keySet()) {
            if (!path.startsWith("/") || path.equals("/") || path.startsWith("/api") || path.startsWith("/events")
                    || PAGES.containsKey(path)) {
                throw new IllegalArgumentException("cannot mount an extra handler at '" + path
                        + "': it must start with / and not be /, /api, /events or a page of the dashboard");
            }
        }
        this.access = new Access(settings);
        this.api = new ApiHandler(operations, new ScheduleApi(new ScheduleOperations(redis)), settings);
        this.events = new EventFanout(redis);
        this.streams = new EventStreams(events);
        HttpServer bound;
        try {
            bound = HttpServers.create(settings.address(), 64);
        } catch (BindException e) {
            streams.close();
            events.close();
            throw new IllegalStateException("the dashboard cannot listen on " + settings.bind() + ":" + settings.port()
                    + ": " + e.getMessage() + " (is another process using the port? --port chooses another)", e);
        } catch (IOException | RuntimeException e) {
            streams.close();
            events.close();
            throw new IllegalStateException("the dashboard cannot listen on " + settings.bind() + ":" + settings.port()
                    + ": " + e.getMessage(), e);
        }
        this.server = bound;
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/api/", guarded(api::handle));
        server.createContext("/events", guarded(streams::handle));
        extras.forEach((path, handler) -> server.createContext(path, guarded(handler::handle)));
        server.createContext("/", guarded(this::page));
        server.start();
        log.info("dashboard on {}{}", url(), settings.describeAccess());
    }

    /** The port it listens on (the chosen one when the settings said 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The address to open in a browser. */
    public String url() {
        InetSocketAddress address = server.getAddress();
        String host = address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + address.getPort() + "/";
    }

    public DashboardSettings settings() {
        return settings;
    }

    /** How many browsers have an event stream open. */
    public int eventListeners() {
        return events.listenerCount();
    }

    /** The most bytes of events queued for one browser, not yet written to it (each has its own budget). */
    long mostQueuedEventBytesOfOneBrowser() {
        return events.mostQueuedBytesOfOneListener();
    }

    /** Sends idle event streams a keep-alive this often instead (tests notice a closed browser sooner). */
    DashboardServer keepAliveEvery(Duration interval) {
        streams.keepAliveEvery(interval);
        return this;
    }

    /** Drops an event stream whose write has been blocked this long instead (tests see a stalled browser dropped sooner). */
    DashboardServer dropStreamsStalledFor(Duration limit) {
        streams.dropWhenStalledFor(limit);
        return this;
    }

    private interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }

    /** Access rules first, then the handler; an unexpected failure is a 500 naming it, never a dropped connection. */
    private HttpHandler guarded(Handler handler) {
        return exchange -> {
            try {
                try (InputStream body = exchange.getRequestBody()) {
                    body.readNBytes(64 * 1024);   // actions take no body; drain a small one so the connection stays usable
                }
                Access.Refusal refusal = access.check(ApiHandler.changesState(exchange),
                        exchange.getRequestHeaders().getFirst("Host"),
                        exchange.getRequestHeaders().getFirst("Authorization"),
                        exchange.getRequestHeaders().getFirst(Access.CSRF_HEADER));
                if (refusal != null) {
                    if (refusal.askForCredentials()) {
                        exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"taskpool dashboard\", charset=\"UTF-8\"");
                    }
                    HttpIo.error(exchange, refusal.status(), refusal.message());
                    return;
                }
                handler.handle(exchange);
            } catch (IOException e) {
                log.debug("dashboard request {} ended early: {}", exchange.getRequestURI(), e.getMessage());
            } catch (RuntimeException e) {
                log.warn("dashboard request {} failed: {}", exchange.getRequestURI(), e.toString());
                try {
                    HttpIo.error(exchange, 500, "the dashboard could not answer: " + e.getMessage());
                } catch (IOException | RuntimeException ignored) {
                    // the answer had started already: the browser sees a cut response
                }
            } finally {
                exchange.close();
            }
        };
    }

    private void page(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            HttpIo.error(exchange, 405, method + " " + exchange.getRequestURI().getPath() + " is not supported: pages are GET");
            return;
        }
        String name = PAGES.get(exchange.getRequestURI().getPath());
        if (name == null) {
            HttpIo.error(exchange, 404, "no page " + exchange.getRequestURI().getPath() + " (the dashboard starts at /)");
            return;
        }
        byte[] body;
        try (InputStream in = DashboardServer.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's resource " + name + " is missing from the jar");
            }
            body = in.readAllBytes();
        }
        HttpIo.send(exchange, 200, contentType(name), body);
    }

    private static String contentType(String name) {
        if (name.endsWith(".html")) return "text/html; charset=utf-8";
        if (name.endsWith(".js")) return "text/javascript; charset=utf-8";
        if (name.endsWith(".css")) return "text/css; charset=utf-8";
        if (name.endsWith(".svg")) return "image/svg+xml";
        return "application/octet-stream";
    }

    @Override
    public void close() {
        events.close();   // ends every event stream
        streams.close();
        server.stop(1);
        executor.shutdownNow();
    }
}
