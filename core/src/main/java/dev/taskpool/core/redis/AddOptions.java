package dev.taskpool.core.redis;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How a task is added, beyond its arguments: when it may start ({@link #delay} or {@link #at}),
 * the unique {@link #key} that makes a second add while it waits or runs answer with its id, and
 * its {@link #priority}. Immutable; {@link #none()} adds as a plain add does. Each option has a
 * name in the map form that scripts and the command line give ({@code {"delay": 3000}},
 * {@code {"at": 1765090000000}} in ms, {@code {"key": "invoice-42"}}, {@code {"priority": 2}}),
 * read by {@link #fromMap}: a later option is one more entry in {@link #READERS} and one more
 * field here.
 *
 * <p>Due times are judged by Redis' clock: a delay is added to the adding process's estimate of
 * Redis' time when the add is made, and a task never starts before its due time by that clock.
 */
public final class AddOptions {
    /** The latest due time accepted, 9999-12-31T23:59:59.999Z (ms): beyond it no date is written the same everywhere. */
    public static final long LATEST_AT = 253_402_300_799_999L;
    /** The longest unique key accepted, in characters. */
    public static final int MAX_KEY_LENGTH = 200;
    /** The highest priority: levels are 0 (the default) to this, higher first. */
    public static final int MAX_PRIORITY = 3;
    private static final AddOptions NONE = new AddOptions(null, null, null, 0);

    /** Reads one option of the map form into the options read so far. */
    private interface Reader {
        AddOptions read(AddOptions options, Object value);
    }

    /** The options of the map form, by name, in the order error messages list them. */
    private static final Map<String, Reader> READERS = new LinkedHashMap<>();

    static {
        READERS.put("delay", (options, value) -> options.withDelay(Duration.ofMillis(wholeMillis("delay", value))));
        READERS.put("at", (options, value) -> options.withAt(Instant.ofEpochMilli(wholeMillis("at", value))));
        READERS.put("key", (options, value) -> {
            if (!(value instanceof CharSequence text)) {
                throw new IllegalArgumentException("add option key must be a string of 1 to " + MAX_KEY_LENGTH
                        + " characters, got " + value);
            }
            return options.withKey(text.toString());
        });
        READERS.put("priority", (options, value) -> {
            long priority = whole("priority", value, "an integer from 0 to " + MAX_PRIORITY);
            if (priority < 0 || priority > MAX_PRIORITY) {
                throw new IllegalArgumentException("add option priority must be an integer from 0 to " + MAX_PRIORITY + ", got " + value);
            }
            return options.withPriority((int) priority);
        });
    }

    private final Duration delay;
    private final Instant at;
    private final String key;
    private final int priority;

    private AddOptions(Duration delay, Instant at, String key, int priority) {
        this.delay = delay;
        this.at = at;
        this.key = key;
        this.priority = priority;
    }

    /**
     * A unique add: while a task added with {@code key} is WAITING or RUNNING (or ended less than
     * the kind's {@code unique.for} ago), another add with it adds nothing and answers that task's
     * id ({@link AddResult#duplicate()}).
     */
    public static AddOptions key(String key) {
        return NONE.withKey(key);
    }

    /** An add at priority {@code priority} (0, the default, to {@link #MAX_PRIORITY}; higher first). */
    public static AddOptions priority(int priority) {
        return NONE.withPriority(priority);
    }

    /** These options with the unique key {@code key} (1 to {@link #MAX_KEY_LENGTH} characters). */
    public AddOptions withKey(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("add option key must be a string of 1 to " + MAX_KEY_LENGTH + " characters, got "
                    + key.length() + " characters");
        }
        return new AddOptions(delay, at, key, priority);
    }

    /** These options with priority {@code priority} (0 to {@link #MAX_PRIORITY}). */
    public AddOptions withPriority(int priority) {
        if (priority < 0 || priority > MAX_PRIORITY) {
            throw new IllegalArgumentException("add option priority must be an integer from 0 to " + MAX_PRIORITY + ", got " + priority);
        }
        return new AddOptions(delay, at, key, priority);
    }

    /** No options: the task may start at once. */
    public static AddOptions none() {
        return NONE;
    }

    /** The task may start once {@code delay} has passed (by Redis' clock) after the add. */
    public static AddOptions delay(Duration delay) {
        return NONE.withDelay(delay);
    }

    /** The task may start at {@code at} (by Redis' clock); a time already past starts it at once. */
    public static AddOptions at(Instant at) {
        return NONE.withAt(at);
    }

    /** These options with the delay {@code delay} (which must be zero or more), and no {@code at}. */
    public AddOptions withDelay(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("add option delay must not be negative, got " + delay.toMillis() + " ms");
        }
        if (delay.compareTo(Duration.ofMillis(LATEST_AT)) > 0) {
            throw new IllegalArgumentException("add option delay must be at most " + LATEST_AT + " ms, got " + delay.toMillis()
                    + " ms");
        }
        if (at != null) {
            throw both();
        }
        return new AddOptions(delay, null, key, priority);
    }

    /** These options with the due time {@code at} (epoch 0 to {@link #LATEST_AT}), and no delay. */
    public AddOptions withAt(Instant at) {
        Objects.requireNonNull(at, "at");
        if (at.isBefore(Instant.EPOCH) || at.toEpochMilli() > LATEST_AT) {
            throw new IllegalArgumentException("add option at must be an epoch time in ms from 0 to " + LATEST_AT + ", got "
                    + at.toEpochMilli() + " (" + at + ")");
        }
        if (delay != null) {
            throw both();
        }
        return new AddOptions(null, at, key, priority);
    }

    private static IllegalArgumentException both() {
        return new IllegalArgumentException("add options delay and at exclude each other: give one of them");
    }

    /**
     * The map form ({@code {"delay": 3000}} or {@code {"at": 1765090000000}}, ms), as a script or
     * the command line gives it; null or an empty map is {@link #none()}.
     *
     * @throws IllegalArgumentException naming the option and the value: an unknown option, a value
     *                                  that is no whole number, a negative delay, both delay and at
     */
    public static AddOptions fromMap(Map<String, ?> options) {
        AddOptions read = NONE;
        if (options == null) {
            return read;
        }
        for (Map.Entry<String, ?> option : options.entrySet()) {
            Reader reader = READERS.get(option.getKey());
            if (reader == null) {
                throw new IllegalArgumentException("unknown add option '" + option.getKey() + "' (value " + option.getValue()
                        + "); the options are " + String.join(", ", READERS.keySet()));
            }
            read = reader.read(read, option.getValue());
        }
        return read;
    }

    /** {@code value} as a whole number of ms, or an error naming the option and the value. */
    private static long wholeMillis(String option, Object value) {
        return whole(option, value, "a whole number of ms");
    }

    /** {@code value} as a whole number, or an error naming the option, what it must be and the value. */
    private static long whole(String option, Object value, String expected) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        // Script numbers may arrive as doubles (3000.0): whole ones are taken, within the range a double holds exactly.
        if (value instanceof Number number && !(value instanceof Float || value instanceof Double)) {
            try {
                return new BigDecimal(number.toString()).longValueExact();
            } catch (ArithmeticException | NumberFormatException e) {
                throw notWhole(option, value, expected);
            }
        }
        if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            if (number == Math.rint(number) && Math.abs(number) <= 9_007_199_254_740_991.0) {
                return (long) number;
            }
        }
        throw notWhole(option, value, expected);
    }

    private static IllegalArgumentException notWhole(String option, Object value, String expected) {
        String shown = value instanceof CharSequence ? "'" + value + "' (a string)" : String.valueOf(value);
        return new IllegalArgumentException("add option " + option + " must be " + expected + ", got " + shown);
    }

    /** The unique key, when one was given. */
    public Optional<String> uniqueKey() {
        return Optional.ofNullable(key);
    }

    /** The priority: 0 (the default) to {@link #MAX_PRIORITY}. */
    public int priorityLevel() {
        return priority;
    }

    /** The delay, when one was given. */
    public Optional<Duration> delayBy() {
        return Optional.ofNullable(delay);
    }

    /** The due time, when one was given. */
    public Optional<Instant> runAt() {
        return Optional.ofNullable(at);
    }

    /** Whether these options change nothing about the add. */
    public boolean isNone() {
        return delay == null && at == null && key == null && priority == 0;
    }

    /**
     * The due time (epoch ms) of a task added at {@code now} (epoch ms, Redis' clock): {@code at}, or
     * now plus the delay; 0 when the task may start at once.
     */
    public long dueAt(long now) {
        if (at != null) {
            return at.toEpochMilli();
        }
        if (delay != null && !delay.isZero()) {
            return now + delay.toMillis();
        }
        return 0;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AddOptions options && Objects.equals(delay, options.delay) && Objects.equals(at, options.at)
                && Objects.equals(key, options.key) && priority == options.priority;
    }

    @Override
    public int hashCode() {
        return Objects.hash(delay, at, key, priority);
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        if (delay != null) {
            parts.add("delay: " + delay.toMillis() + " ms");
        }
        if (at != null) {
            parts.add("at: " + at.toEpochMilli());
        }
        if (key != null) {
            parts.add("key: " + key);
        }
        if (priority != 0) {
            parts.add("priority: " + priority);
        }
        return "{" + String.join(", ", parts) + "}";
    }
}
