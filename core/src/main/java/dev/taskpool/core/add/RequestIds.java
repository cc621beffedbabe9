package dev.taskpool.core.add;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ids for requests that must be applied once even when Lettuce re-sends them: unique within this
 * process by a counter, and across processes by 48 random bits drawn once per process. A request
 * id only has to stay unique while Redis remembers it (minutes), so 48 bits make a collision
 * between two processes' prefixes negligible, and an add costs a counter increment instead of a
 * draw from {@link SecureRandom} (which showed in the profile of one caller adding in a loop).
 */
public final class RequestIds {
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final byte[] PREFIX = new byte[6];
    private static final AtomicLong COUNTER;

    static {
        SecureRandom random = new SecureRandom();
        random.nextBytes(PREFIX);
        // The counter starts anywhere in its 48 bits, so a process that drew the same prefix as
        // another would still have to reach the same counter values within the same minutes.
        COUNTER = new AtomicLong(random.nextLong() & 0xFFFF_FFFF_FFFFL);
    }

    private RequestIds() {
    }

    /** 96 bits (the process's random prefix, then the counter's low 48 bits) as 16 URL-safe characters. */
    public static String next() {
        long count = COUNTER.getAndIncrement();
        byte[] bytes = new byte[12];
        System.arraycopy(PREFIX, 0, bytes, 0, 6);
        for (int i = 0; i < 6; i++) {
            bytes[11 - i] = (byte) (count >>> (8 * i));
        }
        return ENCODER.encodeToString(bytes);
    }
}
