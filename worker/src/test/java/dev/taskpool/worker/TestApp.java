package dev.taskpool.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** An app directory written by a test: task definitions and scripts. */
public final class TestApp {
    private final Path dir;

    private TestApp(Path dir) {
        this.dir = dir;
    }

    public static TestApp in(Path dir) {
        return new TestApp(dir);
    }

    /** A copy of one of the repository's example apps, e.g. {@code seed}. */
    public static TestApp copyOfExample(String name, Path dir) {
        Path source = Path.of("..", "examples", name).toAbsolutePath().normalize();
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path target = dir.resolve(source.relativize(file).toString());
                Files.createDirectories(target.getParent());
                Files.copy(file, target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TestApp(dir);
    }

    public TestApp task(String id, String json) {
        return write("tasks/" + id.replace('.', '/') + ".yao", json);
    }

    /** A definition with the seed's fields; {@code extra} is spliced in (e.g. an "event" object). */
    public TestApp task(String id, int workerNums, int attempts, int attemptAfter, int timeout, int size,
                        String process, String extra) {
        return task(id, """
                {"name": "%s", "worker_nums": %d, "attempts": %d, "attempt_after": %d, "timeout": %d, "size": %d,
                 "process": "%s"%s}
                """.formatted(id, workerNums, attempts, attemptAfter, timeout, size, process,
                extra == null || extra.isEmpty() ? "" : ", " + extra));
    }

    public TestApp script(String group, String source) {
        return write("scripts/" + group.replace('.', '/') + ".js", source);
    }

    public TestApp write(String relative, String text) {
        try {
            Path file = dir.resolve(relative);
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public Path dir() {
        return dir;
    }
}
