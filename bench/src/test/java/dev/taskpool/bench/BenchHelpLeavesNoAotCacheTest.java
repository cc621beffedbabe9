package dev.taskpool.bench;

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
 * bin/taskpool runs the bench module's jar for {@code bench} and for the list of every command;
 * asked for help, that run prints the help and nothing else, and records no AOT cache (a bench run gets one otherwise). The
 * script runs from a copy of bin/ whose bench jar is these tests' classes, so no build is needed.
 */
class BenchHelpLeavesNoAotCacheTest {
    private static final long WAIT_SECONDS = 120;

    @TempDir
    Path home;

    @Test
    void benchHelpWritesNoAotCacheAndPrintsNoJvmNotes() throws Exception {
        Path script = copyOfBin();
        Path explicitCache = home.resolve("explicit/taskpool.aot");
        Files.createDirectories(explicitCache.getParent());
        run(script, List.of("bench", "-h"), null, "Usage: taskpool bench");
        run(script, List.of("help", "bench"), null, "Usage: taskpool bench");
        // the list of every command names the benchmark too
        run(script, List.of("--help"), null, "  bench ");
        // the cache named by TASKPOOL_AOT_CACHE is neither used nor written either
        run(script, List.of("bench", "--help"), explicitCache, "Usage: taskpool bench");

        List<Path> written = new ArrayList<>();
        try (Stream<Path> files = Files.walk(home)) {
            files.filter(Files::isRegularFile).filter(file -> file.toString().contains("aot")).forEach(written::add);
        }
        assertEquals(List.of(), written, "no AOT cache or recording after the benchmark's help");
    }

    private void run(Path script, List<String> args, Path aotCache, String printed) throws Exception {
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
        assertTrue(stdout.contains(printed), args + ": " + stdout);
        assertEquals("", stderr.strip(), args + ": nothing on stderr");
    }

    /**
     * bin/taskpool and bin/lib under {@link #home}, with a bench jar that is a manifest naming these
     * tests' class path, and the command line's jar and compiler directory the script looks for.
     */
    private Path copyOfBin() throws IOException {
        Path repository = Path.of("..").toAbsolutePath().normalize();
        Path bin = Files.createDirectories(home.resolve("bin/lib"));
        Files.copy(repository.resolve("bin/taskpool"), home.resolve("bin/taskpool"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(repository.resolve("bin/lib/java-home.sh"), bin.resolve("java-home.sh"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createDirectories(home.resolve("cli/target/jvmci"));
        writeJar(home.resolve("cli/target/taskpool.jar"));
        Files.createDirectories(home.resolve("bench/target"));
        writeJar(home.resolve("bench/target/taskpool-bench.jar"));
        return home.resolve("bin/taskpool");
    }

    private static void writeJar(Path file) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, BenchMain.class.getName());
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            classPath.add(Path.of(entry).toAbsolutePath().toUri().toString());   // (a directory's URI ends with '/')
        }
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", classPath));
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            jar.flush();
        }
    }
}
