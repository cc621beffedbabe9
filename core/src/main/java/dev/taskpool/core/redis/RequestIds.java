package dev.taskpool.core.redis;

import java.security.SecureRandom;
import java.util.Base64;

/** Random ids for requests that must be applied once even when Lettuce re-sends them. */
final class RequestIds {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private RequestIds() {
    }

    /** 96 random bits as 16 URL-safe characters. */
    static String next() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return ENCODER.encodeToString(bytes);
    }
}
