package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.support.LocalRedis;
import dev.taskpool.worker.TestApp;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `taskpool run` as a Redis user without +info: the add still works, and the warning that replicas
 * cannot be counted is one line of the project's log, not java.util.logging's two-line format
 * ("Dec 07, 2026 1:23:45 AM dev.taskpool.core.add.ReplicationFence lambda$..." then "WARNING: ...").
 */
class RunWithoutInfoTest {
    @TempDir
    Path dir;

    @Test
    void theReplicaWarningIsOneLineOfTheLog() throws Exception {
        TestApp app = TestApp.in(dir.resolve("app")).task("noinfo", 1, 0, 0, 5, 10, "scripts.n.Work", "")
                .script("n", "function Work(id) { return 1; }");
        try (LocalRedis redis = LocalRedis.start(); RedisConnector admin = RedisConnector.connect(redis.uri())) {
            CommandArgs<String, String> rules = new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add("no-info").add("on")
                    .add(">secret").add("~*").add("&*").add("+@all").add("-info");
            assertEquals("OK", admin.sync().dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), rules));
            String uri = redis.uri().replace("redis://", "redis://no-info:secret@");

            String java = ProcessHandle.current().info().command().orElse("java");
            ProcessBuilder builder = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "--sun-misc-unsafe-memory-access=allow", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    TaskpoolCommand.class.getName(), "run", "tasks.noinfo.add", "\"x\"", "--app", app.dir().toString(),
                    "--redis", uri);
            builder.environment().remove("TASKPOOL_REPLICA_ACK");
            Path out = dir.resolve("out.txt");
            Path err = dir.resolve("err.txt");
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("taskpool run did not exit within 90 s");
            }
            String stderr = Files.readString(err);
            assertEquals(0, process.exitValue(), stderr);
            assertEquals("1", Files.readString(out).strip(), "the add went through: " + stderr);
            List<String> about = stderr.lines().filter(line -> line.contains("has replicas")).toList();
            assertEquals(1, about.size(), stderr);
            assertTrue(about.getFirst().matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN .*"), "the log's own format: " + stderr);
            assertTrue(stderr.lines().noneMatch(line -> line.startsWith("WARNING: ") || line.contains("ReplicationFence lambda$")),
                    "nothing through java.util.logging: " + stderr);
        }
    }
}
