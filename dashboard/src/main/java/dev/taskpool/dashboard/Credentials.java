package dev.taskpool.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;

/**
 * The secret of an Authorization header: a Bearer token, or the password of basic auth (so that a
 * browser's login prompt and a scraper's bearer token both work). Shared by the dashboard and the
 * worker's metrics port.
 *
 * @param secret the token or password; null when the header is absent or of another scheme
 * @param bearer whether it came as a Bearer token (which browsers never attach by themselves)
 */
public record Credentials(String secret, boolean bearer) {
    public static Credentials parse(String authorization) {
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

    /** Whether a secret was given and it is {@code token} (compared in constant time). */
    public boolean matches(byte[] token) {
        return secret != null && MessageDigest.isEqual(token, secret.getBytes(StandardCharsets.UTF_8));
    }
}
