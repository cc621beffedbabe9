package dev.taskpool.core.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.definition.TaskIds;
import dev.taskpool.core.json.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A schedule's definition: what a {@code schedules/<id>.sch.yao} file or a Java application says.
 * It fires either a task ({@code task}: adds one of that kind with {@code args}) or a process
 * ({@code process}: the firing worker runs it with {@code args}). {@code args} is a JSON array as
 * written, {@code $ENV.NAME} references unresolved: the firing worker resolves them when it fires.
 * Built through {@link #builder(String)}, which validates every field; a definition read back from
 * Redis is not validated again.
 */
public record ScheduleSpec(String id, String name, String cron, String timezone, String task, String process,
        String args, String missed, boolean overlap) {
    public static final String DEFAULT_TIMEZONE = "UTC";
    public static final String MISSED_SKIP = "skip";
    public static final String MISSED_ONCE = "once";
    public static final String MISSED_ALL = "all";
    static final Set<String> MISSED_POLICIES = Set.of(MISSED_SKIP, MISSED_ONCE, MISSED_ALL);
    /** A process name: dot-separated words, at least a group and a method (as task definitions' {@code process}). */
    private static final Pattern PROCESS_NAME = Pattern.compile("[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)+");

    /** Whether it adds tasks (else it runs a process). */
    public boolean firesTask() {
        return task != null;
    }

    /** The cron expression read for its zone; the spec must be valid. */
    public CronTiming timing() {
        return CronTiming.parse(cron, timezone);
    }

    /** What {@code next_fire_at} was computed from: a change of cron or zone recomputes it. */
    String timingKey() {
        return cron + " @ " + timezone;
    }

    public static Builder builder(String id) {
        return new Builder(id);
    }

    /** A builder holding this spec's values, to change some. */
    public Builder toBuilder() {
        return new Builder(id).name(name).cron(cron).timezone(timezone).task(task).process(process).argsJson(args)
                .missed(missed).overlap(overlap);
    }

    /** What is wrong with these values, each as {@code <source>: field "<field>": <why>, got <value>}; empty when nothing. */
    public List<String> problems(String source) {
        List<String> problems = new ArrayList<>();
        if (id == null || !TaskIds.isValid(id)) {
            problems.add(source + ": schedule id " + quote(id) + " is not valid: expected dot-separated words of letters,"
                    + " digits, '_' and '-'");
        }
        if (name == null || name.isBlank()) {
            problems.add(source + ": field \"name\": expected a non-empty string, got " + quote(name));
        }
        try {
            CronTiming.parse(cron, DEFAULT_TIMEZONE);
        } catch (IllegalArgumentException e) {
            problems.add(source + ": field \"schedule\": " + e.getMessage());
        }
        try {
            CronTiming.zoneOf(timezone);
        } catch (IllegalArgumentException e) {
            problems.add(source + ": field \"timezone\": " + e.getMessage());
        }
        if ((task == null) == (process == null)) {
            problems.add(source + ": fields \"task\" and \"process\": expected exactly one of them, got "
                    + (task == null ? "neither" : "both (task " + quote(task) + ", process " + quote(process) + ")"));
        } else if (task != null && !TaskIds.isValid(task)) {
            problems.add(source + ": field \"task\": expected a task id such as \"mail.send\", got " + quote(task));
        } else if (process != null && !PROCESS_NAME.matcher(process).matches()) {
            problems.add(source + ": field \"process\": expected a process name such as \"scripts.report.Daily\", got "
                    + quote(process));
        }
        argsProblem(source).ifPresent(problems::add);
        if (missed == null || !MISSED_POLICIES.contains(missed)) {
            problems.add(source + ": field \"missed\": expected \"skip\", \"once\" or \"all\", got " + quote(missed));
        }
        if (!overlap && process != null) {
            problems.add(source + ": field \"overlap\": false needs a task schedule (Redis sees whether a task is still"
                    + " WAITING or RUNNING, not whether a process still runs), got false with process " + quote(process));
        }
        return problems;
    }

    private Optional<String> argsProblem(String source) {
        if (args == null) {
            return Optional.of(source + ": field \"args\": expected a JSON array, got none");
        }
        try {
            JsonNode node = Json.read(args, "args");
            if (!node.isArray()) {
                return Optional.of(source + ": field \"args\": expected a JSON array, got " + shorten(args));
            }
        } catch (TaskpoolException e) {
            return Optional.of(source + ": field \"args\": " + e.getMessage());
        }
        return Optional.empty();
    }

    /** The JSON kept in Redis' registry, with who wrote it and where it came from. */
    String toJson(String source, String by, long at) {
        ObjectNode node = Json.NODES.objectNode();
        node.put("name", name).put("cron", cron).put("timezone", timezone);
        if (task != null) {
            node.put("task", task);
        } else {
            node.put("process", process);
        }
        node.put("args", args).put("missed", missed).put("overlap", overlap).put("source", source).put("by", by)
                .put("updated_at", at);
        return node.toString();
    }

    /** Reads back {@link #toJson}; a value written by hand that is not such an object is an error naming the schedule. */
    static ScheduleSpec fromJson(String id, String json) {
        JsonNode node = Json.read(json, "schedule '" + id + "' in the registry");
        if (!node.isObject()) {
            throw new TaskpoolException("schedule '" + id + "' in the registry is not a JSON object: " + shorten(json));
        }
        return new ScheduleSpec(id, text(node, "name"), text(node, "cron"), text(node, "timezone"), text(node, "task"),
                text(node, "process"), text(node, "args") == null ? "[]" : text(node, "args"),
                text(node, "missed") == null ? MISSED_ONCE : text(node, "missed"),
                !node.has("overlap") || node.get("overlap").asBoolean(true));
    }

    static String sourceOf(String json) {
        JsonNode node = Json.read(json, "a schedule in the registry");
        return text(node, "source");
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    /** JSON as Redis keeps it: without the spaces of its writer; text that is no JSON is left for validation to name. */
    private static String compact(String json) {
        if (json == null) {
            return null;
        }
        try {
            return Json.read(json, "args").toString();
        } catch (TaskpoolException e) {
            return json;
        }
    }

    private static String quote(String value) {
        return value == null ? "none" : "\"" + shorten(value) + "\"";
    }

    private static String shorten(String text) {
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }

    /** Collects a schedule's fields; {@link #build()} validates them all at once. */
    public static final class Builder {
        private final String id;
        private String name;
        private String cron;
        private String timezone = DEFAULT_TIMEZONE;
        private String task;
        private String process;
        private String args = "[]";
        private String missed = MISSED_ONCE;
        private boolean overlap = true;

        private Builder(String id) {
            this.id = id;
        }

        /** What operators see; the id when not given. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** 5 fields (minute hour day month weekday), or 6 with a leading seconds field. */
        public Builder cron(String cron) {
            this.cron = cron;
            return this;
        }

        /** An IANA zone id the cron expression is read in; UTC when not given. */
        public Builder timezone(String timezone) {
            this.timezone = timezone;
            return this;
        }

        /** Each firing adds a task of this kind. */
        public Builder task(String task) {
            this.task = task;
            return this;
        }

        /** Each firing runs this process on the worker that won the firing. */
        public Builder process(String process) {
            this.process = process;
            return this;
        }

        /** The arguments, as plain values (serialised to a JSON array). */
        public Builder args(Object... args) {
            this.args = Json.write(Arrays.asList(args));
            return this;
        }

        /** The arguments as a JSON array text; strings may be {@code "$ENV.NAME"}, resolved at each firing. */
        public Builder argsJson(String args) {
            this.args = args;
            return this;
        }

        /** {@code skip}, {@code once} (the default) or {@code all}: what a firing after downtime does with missed slots. */
        public Builder missed(String missed) {
            this.missed = missed;
            return this;
        }

        /** false: a firing is skipped while the task of the previous one is still WAITING or RUNNING. */
        public Builder overlap(boolean overlap) {
            this.overlap = overlap;
            return this;
        }

        /** @throws DefinitionException naming every bad field and its value */
        public ScheduleSpec build() {
            ScheduleSpec spec = new ScheduleSpec(id, name == null ? id : name, cron == null ? null : cron.trim(),
                    timezone == null ? null : timezone.trim(), task, process, compact(args), missed, overlap);
            List<String> problems = spec.problems("schedule " + quote(id));
            if (!problems.isEmpty()) {
                throw new DefinitionException("schedule", problems);
            }
            return spec;
        }
    }
}
