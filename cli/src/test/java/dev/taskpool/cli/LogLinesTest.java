package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.support.TestRedis;
import dev.taskpool.worker.TestApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's own logback.xml (not the tests'): log lines reach the terminal with their
 * control characters made visible, and logback prints nothing about its own configuration.
 */
class LogLinesTest {
    @TempDir
    Path dir;

    @Test
    void logMessagesShowControlCharactersVisibly() throws Exception {
        // a name with an escape sequence, which the runtime's "loaded app" line quotes
        TestApp app = TestApp.in(dir.resolve("app\u001b[2J")).task(TestRedis.uniqueTaskId("logs"), 1, 0, 0, 5, 10,
                        "scripts.n.Work", "")
                .script("n", "function Work(id) { return 1; }\nfunction One() { return 1; }");
        Path config = Path.of("src/main/resources/logback.xml").toAbsolutePath();
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder builder = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx256m", "-Dlogback.configurationFile=" + config,
                "-cp", System.getProperty("java.class.path"), TaskpoolCommand.class.getName(),
                "run", "scripts.n.One", "--app", app.dir().toString(), "--redis", TestRedis.uri());
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("taskpool run did not exit within 90 s");
        }
        String stderr = Files.readString(err);
        assertEquals(0, process.exitValue(), stderr);
        assertEquals("1", Files.readString(out).strip(), stderr);
        assertTrue(stderr.contains("loaded app " + dir.resolve("app") + "\\e[2J"), "the name made visible: " + stderr);
        assertTrue(!stderr.contains("\u001b"), "no raw ESC: " + stderr);
        assertTrue(stderr.lines().noneMatch(line -> line.contains("|-INFO") || line.contains("|-WARN")),
                "logback says nothing about its configuration: " + stderr);
    }
}
