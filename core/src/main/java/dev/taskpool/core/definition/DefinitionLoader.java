package dev.taskpool.core.definition;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Loads every {@code tasks/**}{@code /*.yao|.json|.jsonc} file of an app directory. All files are
 * read before failing, so one {@link DefinitionException} lists every bad file.
 */
public final class DefinitionLoader {
    private static final List<String> EXTENSIONS = List.of(".yao", ".jsonc", ".json");

    private final UnaryOperator<String> environment;

    /** @param environment looks up {@code $ENV.NAME} values; null when a variable is not set */
    public DefinitionLoader(UnaryOperator<String> environment) {
        this.environment = environment;
    }

    public static DefinitionLoader withSystemEnvironment() {
        return new DefinitionLoader(System::getenv);
    }

    public List<TaskDefinition> loadApp(Path appDir) {
        Path tasksDir = appDir.resolve("tasks");
        if (!Files.isDirectory(tasksDir)) {
            throw new DefinitionException(List.of(appDir + ": no tasks/ directory (expected task definitions"
                    + " such as tasks/example.yao)"));
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(tasksDir)) {
            files = walk.filter(Files::isRegularFile).filter(DefinitionLoader::isDefinitionFile)
                    .sorted(Comparator.comparing(Path::toString)).toList();
        } catch (IOException e) {
            throw new DefinitionException(List.of(tasksDir + ": cannot list the directory: " + e.getMessage()));
        }
        List<String> problems = new ArrayList<>();
        List<TaskDefinition> definitions = new ArrayList<>();
        Map<String, Path> seen = new HashMap<>();
        for (Path file : files) {
            String id = taskIdOf(tasksDir, file);
            String label = appDir.relativize(file).toString();
            Path earlier = seen.putIfAbsent(id, file);
            if (earlier != null) {
                problems.add(label + ": task id '" + id + "' is already defined by "
                        + appDir.relativize(earlier));
                continue;
            }
            if (!TaskIds.isValid(id)) {
                problems.add(label + ": the path gives task id '" + id + "', which is not valid: expected"
                        + " dot-separated words of letters, digits, '_' and '-'");
                continue;
            }
            String text;
            try {
                text = Files.readString(file);
            } catch (IOException e) {
                problems.add(label + ": cannot read the file: " + e.getMessage());
                continue;
            }
            TaskDefinition definition = parse(id, label, text, problems);
            if (definition != null) {
                definitions.add(definition);
            }
        }
        if (!problems.isEmpty()) {
            throw new DefinitionException(problems);
        }
        return List.copyOf(definitions);
    }

    /**
     * Parses one definition; adds what is wrong to {@code problems} (each naming {@code source})
     * and returns null when anything is.
     */
    public TaskDefinition parse(String id, String source, String text, List<String> problems) {
        int before = problems.size();
        JsonNode root = Json.readJsonc(text, source, problems);
        if (problems.size() > before) {
            return null;
        }
        if (root == null || !root.isObject()) {
            problems.add(source + ": expected a JSON object with the task's fields");
            return null;
        }
        DefinitionFields fields = new DefinitionFields(source, root, environment, problems);
        fields.rejectUnknown();
        String name = fields.requiredString("name");
        int workerNums = fields.requiredInt("worker_nums", 1);
        int attempts = fields.requiredInt("attempts", 0);
        int problemsBefore = problems.size();
        int attemptAfter = fields.requiredInt("attempt_after", 0);
        Backoff backoff = fields.backoff(problems.size() == problemsBefore ? attemptAfter : null);
        int timeout = fields.requiredInt("timeout", 1);
        int size = fields.requiredInt("size", 1);
        String process = fields.requiredProcess("process");
        Integer keep = fields.optionalInt("keep", 1);
        TaskEvents events = fields.events();
        FlowControl flow = new FlowControlFields(source, root, environment, problems).read();
        int partitions = fields.partitions(size, flow);
        if (problems.size() > before) {
            return null;
        }
        return new TaskDefinition(id, source, name, workerNums, attempts,
                Duration.ofMillis(attemptAfter), Duration.ofSeconds(timeout), size,
                process, events, keep == null ? TaskDefinition.DEFAULT_KEEP : Duration.ofSeconds(keep), backoff, flow,
                partitions);
    }

    static boolean isDefinitionFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    /** {@code tasks/mail/send.yao} gives {@code mail.send}. */
    static String taskIdOf(Path tasksDir, Path file) {
        String relative = tasksDir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
        String lower = relative.toLowerCase(Locale.ROOT);
        for (String extension : EXTENSIONS) {
            if (lower.endsWith(extension)) {
                relative = relative.substring(0, relative.length() - extension.length());
                break;
            }
        }
        return relative.replace('/', '.');
    }
}
