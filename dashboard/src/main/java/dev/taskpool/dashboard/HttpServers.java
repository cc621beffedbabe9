package dev.taskpool.dashboard;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Makes the JDK HTTP servers of this process (the dashboard's and the metrics port's) with a time
 * limit on reading a request: a client that sends its request line and headers slowly, a byte at a
 * time, is cut off after {@link #REQUEST_TIME_LIMIT_SECONDS} instead of holding a connection forever
 * (slowloris). The JDK's server reads its limits from system properties once, when the first server
 * of the process is made, so they are set here before that; a value set on the command line
 * ({@code -Dsun.net.httpserver.maxReqTime=...}) is kept.
 *
 * <p>The limit covers a request, not its answer: an event stream stays open as long as its browser
 * reads it.
 */
public final class HttpServers {
    /** Seconds a client has to send a request's line, headers and body once it started to. */
    public static final long REQUEST_TIME_LIMIT_SECONDS = 10;
    static final String REQUEST_TIME_PROPERTY = "sun.net.httpserver.maxReqTime";

    static {
        if (System.getProperty(REQUEST_TIME_PROPERTY) == null) {
            System.setProperty(REQUEST_TIME_PROPERTY, String.valueOf(REQUEST_TIME_LIMIT_SECONDS));
        }
    }

    private HttpServers() {
    }

    public static HttpServer create(InetSocketAddress address, int backlog) throws IOException {
        return HttpServer.create(address, backlog);
    }
}
