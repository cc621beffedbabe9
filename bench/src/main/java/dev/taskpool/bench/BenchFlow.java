package dev.taskpool.bench;

import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.redis.AddOptions;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The flow controls the benchmark's kinds run under ({@code bench --max-running/--rate/--unique/--priority}):
 * definition fields ({@code max_running}, {@code rate}, {@code unique} by args) and add options (a
 * unique key per add, a priority for half the adds). {@link #NONE} is a plain kind, as before issue 19.
 * Also how many partitions each kind has ({@code bench --partitions}).
 *
 * @param maxRunning the kind's {@code max_running} (0: none)
 * @param rateLimit  the starts allowed per {@code ratePer} seconds (0: no rate)
 * @param ratePer    the rate's window, seconds (as the definition gives it)
 * @param unique     none, {@code unique: {by: "args"}} in the definition, or a key option on every add
 * @param priority   the priority (1 to 3) every other add gets, the others staying at 0 (0: none)
 * @param partitions the kinds' {@code partitions} (1: one hash tag each, as before issue 20)
 */
public record BenchFlow(int maxRunning, int rateLimit, BigDecimal ratePer, Unique unique, int priority, int partitions) {
    /** How the tasks are made unique. */
    public enum Unique { NONE, ARGS, KEY }

    public static final BenchFlow NONE = new BenchFlow(0, 0, BigDecimal.ZERO, Unique.NONE, 0, 1);

    public BenchFlow {
        if (maxRunning < 0 || maxRunning > FlowControl.MAX_LIMIT) {
            throw new IllegalArgumentException("--max-running must be from 1 to " + FlowControl.MAX_LIMIT + ", got " + maxRunning);
        }
        if (priority < 0 || priority > AddOptions.MAX_PRIORITY) {
            throw new IllegalArgumentException("--priority must be from 1 to " + AddOptions.MAX_PRIORITY + ", got " + priority);
        }
        if (partitions < 1 || partitions > TaskDefinition.MAX_PARTITIONS) {
            throw new IllegalArgumentException("--partitions must be from 1 to " + TaskDefinition.MAX_PARTITIONS + ", got " + partitions);
        }
    }

    /** As {@link #parse(int, String, String, int, int)}, with one partition per kind. */
    static BenchFlow parse(int maxRunning, String rate, String unique, int priority) {
        return parse(maxRunning, rate, unique, priority, 1);
    }

    /**
     * From the command line's values.
     *
     * @param rate   "L/S" (L starts per S seconds), or null for none
     * @param unique "args", "key", or null for none
     */
    static BenchFlow parse(int maxRunning, String rate, String unique, int priority, int partitions) {
        int limit = 0;
        BigDecimal per = BigDecimal.ZERO;
        if (rate != null) {
            String[] parts = rate.split("/", -1);
            try {
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                limit = Integer.parseInt(parts[0].trim());
                per = new BigDecimal(parts[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--rate must be LIMIT/SECONDS, such as 100000/1 or 5/10, got '" + rate + "'");
            }
            if (limit < 1 || limit > FlowControl.MAX_LIMIT || per.signum() <= 0) {
                throw new IllegalArgumentException("--rate must allow 1 to " + FlowControl.MAX_LIMIT
                        + " starts per a positive number of seconds, got '" + rate + "'");
            }
        }
        Unique by = switch (unique == null ? "" : unique.toLowerCase()) {
            case "" -> Unique.NONE;
            case "args" -> Unique.ARGS;
            case "key" -> Unique.KEY;
            default -> throw new IllegalArgumentException("--unique must be args or key, got '" + unique + "'");
        };
        if (maxRunning == 0 && rate == null && by == Unique.NONE && priority == 0 && partitions == 1) {
            return NONE;
        }
        return new BenchFlow(maxRunning, limit, per, by, priority, partitions);
    }

    /** Adds the definition's flow control fields (none for {@link #NONE}). */
    void putInto(Map<String, Object> definition) {
        if (maxRunning > 0) {
            definition.put("max_running", maxRunning);
        }
        if (rateLimit > 0) {
            definition.put("rate", Map.of("limit", rateLimit, "per", ratePer));
        }
        if (unique == Unique.ARGS) {
            definition.put("unique", Map.of("by", "args"));
        }
        if (partitions > 1) {
            definition.put("partitions", partitions);
        }
    }

    /** The options of single add number {@code i}: its own key with {@code --unique key}, the priority when i is even. */
    AddOptions addOptions(int i) {
        AddOptions options = AddOptions.none();
        if (unique == Unique.KEY) {
            options = options.withKey("bench-" + i);
        }
        return priority > 0 && i % 2 == 0 ? options.withPriority(priority) : options;
    }

    /** The options of batch add number {@code b} (of {@link BenchAdds#BATCH}): the priority when b is even. */
    AddOptions batchOptions(int b) {
        if (unique == Unique.KEY) {
            throw new IllegalStateException("a key names one task: unique keys need single adds");
        }
        return priority > 0 && b % 2 == 0 ? AddOptions.priority(priority) : AddOptions.none();
    }

    /** What the kinds run under, for the output: "none", or the controls, such as "max_running 10, rate 5/10s". */
    String describe() {
        List<String> parts = new ArrayList<>();
        if (maxRunning > 0) {
            parts.add("max_running " + maxRunning);
        }
        if (rateLimit > 0) {
            parts.add("rate " + rateLimit + "/" + ratePer.toPlainString() + "s");
        }
        if (unique == Unique.ARGS) {
            parts.add("unique by args");
        } else if (unique == Unique.KEY) {
            parts.add("a unique key per add");
        }
        if (priority > 0) {
            parts.add("half the adds at priority " + priority);
        }
        if (partitions > 1) {
            parts.add(partitions + " partitions");
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }
}
