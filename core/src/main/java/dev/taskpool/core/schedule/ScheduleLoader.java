package dev.taskpool.core.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Loads an app's {@code schedules/*.sch.yao|.sch.json|.sch.jsonc} files (JSON with comments, read as
 * task definitions are): the id is the file name without its suffix. An app without a
 * {@code schedules/} directory has none. Every file is read before failing, so one
 * {@link DefinitionException} names every bad file, field and value.
 *
 * <p>Fields: {@code name}, {@code schedule} (the cron expression), {@code task} or {@code process},
 * {@code args} (a JSON array; strings {@code "$ENV.NAME"} are resolved by the worker that fires, at
 * each firing, so a secret is read where it is used and never stored in the registry), and
 * taskpool's own {@code timezone} (IANA id; UTC by default), {@code missed} and {@code overlap},
 * plus {@code description} (ignored, as in task definitions).
 */
public final class ScheduleLoader {
    private static final List<String> SUFFIXES = List.of(".sch.yao", ".sch.jsonc", ".sch.json");
    private static final Set<String> KNOWN_FIELDS = Set.of("name", "schedule", "task", "process", "args", "timezone",
            "missed", "overlap", "description");

    private ScheduleLoader() {
    }

    /** A schedule and the file it came from ({@code schedules/backup.sch.yao}), for messages. */
    public record Loaded(String source, ScheduleSpec spec) {
    }

    /** The schedules of the app in {@code appDir}, by file name; none without a {@code schedules/} directory. */
    public static List<Loaded> loadApp(Path appDir) {
        Path dir = appDir.resolve("schedules");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(Files::isRegularFile).filter(file -> idOf(file) != null)
                    .sorted(Comparator.comparing(Path::toString)).toList();
        } catch (IOException e) {
            throw new DefinitionException("schedule", List.of(dir + ": cannot list the directory: " + e.getMessage()));
        }
        List<String> problems = new ArrayList<>();
        List<Loaded> specs = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (Path file : files) {
            String id = idOf(file);
            String label = appDir.relativize(file).toString();
            if (seen.contains(id)) {
                problems.add(label + ": schedule id '" + id + "' is already defined by another file of schedules/");
                continue;
            }
            seen.add(id);
            String text;
            try {
                text = Files.readString(file);
            } catch (IOException e) {
                problems.add(label + ": cannot read the file: " + e.getMessage());
                continue;
            }
            ScheduleSpec spec = parse(id, label, text, problems);
            if (spec != null) {
                specs.add(new Loaded(label, spec));
            }
        }
        if (!problems.isEmpty()) {
            throw new DefinitionException("schedule", problems);
        }
        return List.copyOf(specs);
    }

    /** Parses one file; adds what is wrong to {@code problems} (each naming {@code source}) and returns null when anything is. */
    public static ScheduleSpec parse(String id, String source, String text, List<String> problems) {
        int start = problems.size();
        JsonNode root = Json.readJsonc(text, source, problems);
        if (problems.size() > start) {
            return null;
        }
        if (root == null || !root.isObject()) {
            problems.add(source + ": expected a JSON object with the schedule's fields");
            return null;
        }
        int before = problems.size();
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!KNOWN_FIELDS.contains(name)) {
                problems.add(source + ": field \"" + name + "\": unknown field; expected one of "
                        + String.join(", ", KNOWN_FIELDS.stream().sorted().toList()));
            }
        }
        String name = text(root, "name", source, problems);
        String cron = text(root, "schedule", source, problems);
        String timezone = text(root, "timezone", source, problems);
        String task = text(root, "task", source, problems);
        String process = text(root, "process", source, problems);
        String missed = text(root, "missed", source, problems);
        JsonNode args = root.get("args");
        JsonNode overlap = root.get("overlap");
        if (name == null && !root.has("name")) {
            problems.add(source + ": field \"name\": missing; expected a non-empty string");
        }
        if (cron == null && !root.has("schedule")) {
            problems.add(source + ": field \"schedule\": missing; expected a cron expression such as \"0 3 * * *\"");
        }
        if (args != null && !args.isArray()) {
            problems.add(source + ": field \"args\": expected a JSON array, got " + Json.describe(args));
        }
        if (overlap != null && !overlap.isBoolean()) {
            problems.add(source + ": field \"overlap\": expected true or false, got " + Json.describe(overlap));
        }
        if (problems.size() > before) {
            return null;
        }
        ScheduleSpec spec = new ScheduleSpec(id, name, cron, timezone == null ? ScheduleSpec.DEFAULT_TIMEZONE : timezone,
                task, process, args == null ? "[]" : args.toString(), missed == null ? ScheduleSpec.MISSED_ONCE : missed,
                overlap == null || overlap.asBoolean());
        List<String> invalid = spec.problems(source);
        if (!invalid.isEmpty()) {
            problems.addAll(invalid);
            return null;
        }
        return spec;
    }

    /** A string field, or null when absent; a value of another type is a problem. */
    private static String text(JsonNode root, String field, String source, List<String> problems) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            problems.add(source + ": field \"" + field + "\": expected a non-empty string, got " + Json.describe(node));
            return null;
        }
        return node.asText().trim();
    }

    /** {@code schedules/backup.sch.yao} gives {@code backup}; null for a file of another kind. */
    static String idOf(Path file) {
        String name = file.getFileName().toString();
        String lower = name.toLowerCase(Locale.ROOT);
        for (String suffix : SUFFIXES) {
            if (lower.endsWith(suffix)) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return null;
    }
}
