package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/taskpool asked for help or the version: the help, and nothing else. It used to record the
 * JVM's AOT cache (printing "AOTConfiguration recorded…" and leaving 23 MB files) and to train
 * {@code get}'s cache on the help text. The script runs from a copy of bin/ whose jar is these
 * tests' classes, so no build is needed and nothing is written beside the real jar.
 */
class HelpLeavesNoAotCacheTest {
    private static final long WAIT_SECONDS = 120;

    @TempDir
    Path home;

    @Test
    void helpAndVersionWriteNoAotCacheAndPrintNoJvmNotes() throws Exception {
        Path script = copyOfBin();
        Path explicitCache = home.resolve("explicit/taskpool.aot");
        Files.createDirectories(explicitCache.getParent());
        List<List<String>> asks = List.of(List.of("--help"), List.of("get", "--help"), List.of("get", "--help"),
                List.of("worker", "--help"), List.of("stats", "-h"), List.of("help", "list"), List.of("--version"));
        for (List<String> args : asks) {
            run(script, args, null);
        }
        // the cache named by TASKPOOL_AOT_CACHE is neither used nor written either
        run(script, List.of("worker", "--help"), explicitCache);
        run(script, List.of("demo", "-h"), explicitCache);
        awaitEveryProcessOf(home);   // (the read cache used to be written by a run in the background)

        List<Path> written = new ArrayList<>();
        try (Stream<Path> files = Files.walk(home)) {
            files.filter(Files::isRegularFile).filter(file -> file.toString().contains("aot")).forEach(written::add);
        }
        assertEquals(List.of(), written, "no AOT cache or recording after help and version");
    }

    private void run(Path script, List<String> args, Path aotCache) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", script.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("TASKPOOL_REBUILD");
        builder.environment().remove("TASKPOOL_JAVA_OPTS");
        if (aotCache == null) {
            builder.environment().remove("TASKPOOL_AOT_CACHE");
        } else {
            builder.environment().put("TASKPOOL_AOT_CACHE", aotCache.toString());
        }
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("bin/taskpool " + args + " did not end within " + WAIT_SECONDS + " s");
        }
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        assertEquals(0, process.exitValue(), args + ": " + stderr);
        assertTrue(stdout.contains(args.contains("--version") ? "taskpool 0.1.0" : "Usage: taskpool"), args + ": " + stdout);
        assertTrue(!stderr.contains("AOT") && !stderr.contains("aot"), args + " prints no JVM note about an AOT cache: " + stderr);
        assertEquals("", stderr.strip(), args + ": nothing on stderr");
    }

    /** bin/taskpool and bin/lib under {@link #home}, with a jar that is a manifest naming these tests' class path. */
    private Path copyOfBin() throws IOException {
        Path repository = Path.of("..").toAbsolutePath().normalize();
        Path bin = Files.createDirectories(home.resolve("bin/lib"));
        Files.copy(repository.resolve("bin/taskpool"), home.resolve("bin/taskpool"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(repository.resolve("bin/lib/java-home.sh"), bin.resolve("java-home.sh"), StandardCopyOption.COPY_ATTRIBUTES);
        Path target = Files.createDirectories(home.resolve("cli/target/jvmci"));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, TaskpoolCommand.class.getName());
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            classPath.add(Path.of(entry).toAbsolutePath().toUri().toString());   // (a directory's URI ends with '/')
        }
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", classPath));
        try (OutputStream file = Files.newOutputStream(target.getParent().resolve("taskpool.jar"));
             JarOutputStream jar = new JarOutputStream(file, manifest)) {
            jar.flush();
        }
        // bin/taskpool runs the bench module's jar for the top-level help (it lists `bench` too);
        // these tests have no benchmark, so that jar is the same manifest here.
        Path bench = Files.createDirectories(home.resolve("bench/target"));
        try (OutputStream file = Files.newOutputStream(bench.resolve("taskpool-bench.jar"));
             JarOutputStream jar = new JarOutputStream(file, manifest)) {
            jar.flush();
        }
        return home.resolve("bin/taskpool");
    }

    /** Waits until no process started from {@code dir}'s script is left (a background run included). */
    private static void awaitEveryProcessOf(Path dir) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        String marker = dir.toString();
        while (ProcessHandle.allProcesses().anyMatch(process -> process.info().commandLine().orElse("").contains(marker))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("processes of " + dir + " still running after " + WAIT_SECONDS + " s");
            }
            Thread.sleep(100);
        }
    }
}
