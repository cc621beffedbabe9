package dev.taskpool.dashboard;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.stream.Stream;

/**
 * Where the dashboard listens and who may do what.
 *
 * @param bind     the address to bind; loopback by default, so only this machine reaches it
 * @param port     the TCP port; 0 picks a free one (tests)
 * @param readOnly when true, every request that changes state is refused with 403
 * @param token    the secret that changing requests (and, off loopback, every request) must carry,
 *                 as {@code Authorization: Bearer T} or as the password of basic auth; null for none
 */
public record DashboardSettings(String bind, int port, boolean readOnly, String token) {
    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final String TOKEN_VARIABLE = "TASKPOOL_DASHBOARD_TOKEN";

    public DashboardSettings {
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException("dashboard bind address is empty (expected e.g. 127.0.0.1 or 0.0.0.0)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("dashboard port " + port + " is out of range (0-65535)");
        }
        token = token == null || token.isEmpty() ? null : token;
        if (token != null && token.isBlank()) {
            throw new IllegalArgumentException("dashboard token is only whitespace: give a real secret or none");
        }
    }

    public static DashboardSettings loopback(int port) {
        return new DashboardSettings(DEFAULT_BIND, port, false, null);
    }

    public DashboardSettings withReadOnly(boolean readOnly) {
        return new DashboardSettings(bind, port, readOnly, token);
    }

    public DashboardSettings withToken(String token) {
        return new DashboardSettings(bind, port, readOnly, token);
    }

    /** What a user is told next to the address, e.g. " (read-only)"; empty when everything is open. */
    public String describeAccess() {
        String tokenNeeded = token == null ? "" : loopbackOnly() ? "token required for actions" : "token required";
        String mode = readOnly ? "read-only" : "";
        String both = String.join(", ", Stream.of(mode, tokenNeeded).filter(s -> !s.isEmpty()).toList());
        return both.isEmpty() ? "" : " (" + both + ")";
    }

    /**
     * Refuses settings that would let the network read the dashboard without a token. Commands call
     * it before they touch Redis, so that a refused start leaves nothing behind.
     *
     * @param tokenOption the option that gives the token, named in the refusal (e.g. {@code --token})
     * @throws IllegalArgumentException when the bind address is beyond loopback and no token is set
     */
    public void requireTokenBeyondLoopback(String tokenOption) {
        if (!loopbackOnly() && token == null) {
            throw new IllegalArgumentException("the dashboard would listen on " + bind
                    + ", beyond this machine, without a token: anyone on the network could read task arguments"
                    + (readOnly ? "" : " and change tasks") + "; give " + tokenOption + " T (or "
                    + TOKEN_VARIABLE + "), or bind 127.0.0.1");
        }
    }

    InetSocketAddress address() {
        try {
            return new InetSocketAddress(InetAddress.getByName(bind), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("dashboard bind address '" + bind + "' is no address of this machine: "
                    + e.getMessage(), e);
        }
    }

    /** Whether only this machine can reach the dashboard (127.0.0.0/8, ::1). */
    boolean loopbackOnly() {
        return address().getAddress().isLoopbackAddress();
    }
}
