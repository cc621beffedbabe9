package dev.taskpool.core.json;

import dev.taskpool.core.TaskpoolException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place for the largest values a task may hold: its arguments (checked when it is added)
 * and its result (checked when a run finishes), each as bytes of JSON. Both sit in the task's
 * Redis hash and travel in every read of it, so neither may grow without bound.
 *
 * @param maxArgsBytes   the largest arguments of one task, bytes of UTF-8 JSON
 * @param maxResultBytes the largest result of one task, bytes of UTF-8 JSON
 */
public record ValueLimits(long maxArgsBytes, long maxResultBytes) {
    /** 1 MiB, the default of both limits. */
    public static final long DEFAULT_BYTES = 1024 * 1024;
    /** A Redis string holds at most 512 MiB; a limit above it could never be met. */
    public static final long MAX_BYTES = 512L * 1024 * 1024;
    private static final Pattern SIZE = Pattern.compile("(\\d{1,12})\\s*(b|k|kb|kib|m|mb|mib)?");

    public ValueLimits {
        check(maxArgsBytes, "the argument size limit");
        check(maxResultBytes, "the result size limit");
    }

    public static ValueLimits defaults() {
        return new ValueLimits(DEFAULT_BYTES, DEFAULT_BYTES);
    }

    public ValueLimits withMaxArgsBytes(long bytes) {
        return new ValueLimits(bytes, maxResultBytes);
    }

    public ValueLimits withMaxResultBytes(long bytes) {
        return new ValueLimits(maxArgsBytes, bytes);
    }

    /**
     * A size as a user writes it: bytes ({@code 1048576}), or with a binary unit ({@code 512KiB},
     * {@code 1MiB}; {@code k}/{@code KB} and {@code m}/{@code MB} mean the same).
     */
    public static long parseSize(String text) {
        Matcher matcher = SIZE.matcher(text == null ? "" : text.trim().toLowerCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size (expected e.g. 1048576, 512KiB or 4MiB)");
        }
        long number = Long.parseLong(matcher.group(1));
        String unit = matcher.group(2) == null ? "b" : matcher.group(2);
        long bytes = switch (unit.charAt(0)) {
            case 'k' -> number * 1024;
            case 'm' -> number * 1024 * 1024;
            default -> number;
        };
        if (bytes < 1 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("a size limit must be from 1 byte to 512 MiB, got '" + text + "'");
        }
        return bytes;
    }

    /** The arguments of an add as JSON, refused when larger than {@link #maxArgsBytes()}. */
    public String argsJson(String task, List<?> args) {
        String json = Json.write(args, "the arguments of task " + task);
        long bytes = sizeOver(json, maxArgsBytes);
        if (bytes > 0) {
            throw new TaskpoolException("task " + task + ": arguments are " + bytes + " bytes as JSON, more than the limit of "
                    + maxArgsBytes + " bytes");
        }
        return json;
    }

    /**
     * A run's result as JSON, refused when larger than {@link #maxResultBytes()}. The message
     * reads on from "the processor's result cannot be stored as JSON: ".
     */
    public String resultJson(Object result) {
        String json = Json.write(result);
        long bytes = sizeOver(json, maxResultBytes);
        if (bytes > 0) {
            throw new TaskpoolException("it is " + bytes + " bytes, more than the limit of " + maxResultBytes
                    + " bytes (worker option --max-result, env TASKPOOL_MAX_RESULT)");
        }
        return json;
    }

    /**
     * The UTF-8 size of {@code json} when it exceeds {@code limit}, else 0. A char takes at most 3
     * bytes of UTF-8, so text of up to limit/3 chars (nearly every value) is not measured at all.
     */
    private static long sizeOver(String json, long limit) {
        if (json.length() <= limit / 3) {
            return 0;
        }
        long bytes = json.getBytes(StandardCharsets.UTF_8).length;
        return bytes > limit ? bytes : 0;
    }

    private static void check(long bytes, String what) {
        if (bytes < 1 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException(what + " must be from 1 byte to 512 MiB, got " + bytes + " bytes");
        }
    }
}
