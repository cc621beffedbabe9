package dev.taskpool.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
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
        if (loopbackOnly && !isLoopbackHost(host)) {
            return new Refusal(403, "this dashboard listens on loopback only and answers requests for localhost,"
                    + " 127.0.0.1 or [::1], not for host '" + host + "'", false);
        }
        Credentials given = Credentials.parse(authorization);
        boolean tokenMatches = token != null && given.secret() != null && matches(given.secret());
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

    private boolean matches(String secret) {
        return MessageDigest.isEqual(token, secret.getBytes(StandardCharsets.UTF_8));
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

    /** The secret of an Authorization header: a Bearer token, or the password of basic auth. */
    record Credentials(String secret, boolean bearer) {
        static Credentials parse(String authorization) {
            if (authorization == null) {
                return new Credentials(null, false);
            }
            String value = authorization.trim();
            int space = value.indexOf(' ');
            if (space < 0) {
                return new Credentials(null, false);
            }
            String scheme = value.substring(0, space).toLowerCase(Locale.ROOT);
            String rest = value.substring(space + 1).trim();
            if (scheme.equals("bearer")) {
                return new Credentials(rest, true);
            }
            if (scheme.equals("basic")) {
                try {
                    String decoded = new String(Base64.getDecoder().decode(rest), StandardCharsets.UTF_8);
                    int colon = decoded.indexOf(':');
                    return new Credentials(colon < 0 ? decoded : decoded.substring(colon + 1), false);
                } catch (IllegalArgumentException e) {
                    return new Credentials("", false);
                }
            }
            return new Credentials(null, false);
        }
    }
}
