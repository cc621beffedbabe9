package dev.taskpool.dashboard;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Who may read and who may change what, decided per request from its headers only (so it is plain
 * logic, tested without a server).
 *
 * <ul>
 * <li>Reads (pages, API GETs, events, extra handlers such as /metrics) are open when the dashboard
 *     listens on loopback only, and need the token when it listens anywhere else: task args and
 *     results are user data and must not be readable by the network.</li>
 * <li>On loopback, the Host header must name loopback too: a web page the operator visits cannot
 *     then reach the dashboard through DNS rebinding.</li>
 * <li>Changes (POST) are refused in read-only mode; otherwise they need the custom header
 *     {@value #CSRF_HEADER} (a cross-site form or fetch cannot send it without a CORS pre-flight,
 *     which this server never grants), or a Bearer token (which browsers never attach by
 *     themselves); with a token configured they need the token as well.</li>
 * </ul>
 */
final class Access {
    static final String CSRF_HEADER = "X-Taskpool-Request";

    /** What to answer instead of serving the request; null when it may be served. */
    record Refusal(int status, String message, boolean askForCredentials) {
    }

    private final boolean loopbackOnly;
    private final boolean readOnly;
    private final byte[] token;

    Access(DashboardSettings settings) {
        this(settings.loopbackOnly(), settings.readOnly(), settings.token());
    }

    Access(boolean loopbackOnly, boolean readOnly, String token) {
        this.loopbackOnly = loopbackOnly;
        this.readOnly = readOnly;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    boolean tokenRequired() {
        return token != null;
    }

    /**
     * @param host          the Host header (null when absent)
     * @param authorization the Authorization header (null when absent)
     * @param csrfHeader    the {@value #CSRF_HEADER} header (null when absent)
     */
    Refusal check(boolean changesState, String host, String authorization, String csrfHeader) {
        if (host == null || host.isBlank()) {
            return new Refusal(400, "the request has no Host header: HTTP/1.1 requires one, naming the address the"
                    + " dashboard was reached at (e.g. Host: 127.0.0.1:8080)", false);
        }
        if (loopbackOnly && !isLoopbackHost(host)) {
            return new Refusal(403, "this dashboard listens on loopback only and answers requests for localhost,"
                    + " 127.0.0.1 or [::1], not for host '" + host + "'", false);
        }
        Credentials given = Credentials.parse(authorization);
        boolean tokenMatches = token != null && given.matches(token);
        if (token != null && given.secret() != null && !tokenMatches) {
            return new Refusal(401, "the dashboard token given does not match", true);
        }
        if (!changesState) {
            if (token != null && !loopbackOnly && !tokenMatches) {
                return new Refusal(401, "this dashboard needs its token to be read: Authorization: Bearer <token>,"
                        + " or basic auth with the token as password", true);
            }
            return null;
        }
        if (readOnly) {
            return new Refusal(403, "this dashboard is read-only (--read-only): it changes nothing", false);
        }
        if (token != null && !tokenMatches) {
            return new Refusal(401, "changing anything needs the dashboard token: Authorization: Bearer <token>,"
                    + " or basic auth with the token as password", false);
        }
        boolean bearer = tokenMatches && given.bearer();
        if (!bearer && (csrfHeader == null || csrfHeader.isBlank())) {
            return new Refusal(403, "a change needs the header " + CSRF_HEADER + ": 1 (or a Bearer token),"
                    + " so that another web site cannot make a browser send it", false);
        }
        return null;
    }

    static boolean isLoopbackHost(String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        String name = host.trim().toLowerCase(Locale.ROOT);
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            return end > 0 && name.substring(1, end).equals("::1");
        }
        int colon = name.indexOf(':');
        if (colon >= 0) {
            name = name.substring(0, colon);
        }
        return name.equals("localhost") || name.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }
}
