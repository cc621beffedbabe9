package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.support.TestRedis;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per escape tried: scripts reach no Java, files, network, processes, threads or other files' globals. */
class SandboxTest {
    @TempDir
    static Path dir;
    private static Harness harness;

    @BeforeAll
    static void open() {
        String task = TestRedis.uniqueTaskId("sandbox");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.escape.Noop", "")
                .script("other", "var secret = 'other file'; function Secret() { return secret; }")
                .script("escape", """
                        function Noop() { return 1; }
                        function attempt(fn) {
                          try { const r = fn(); return 'escaped: ' + String(r); } catch (e) { return 'blocked: ' + e; }
                        }
                        function JavaType() { return attempt(() => Java.type('java.lang.System').getenv()); }
                        function Packages_() { return attempt(() => Packages.java.lang.Runtime.getRuntime()); }
                        function ReadFile() { return attempt(() => load('/etc/passwd')); }
                        function ReadFileNashorn() { return attempt(() => readFully('/etc/passwd')); }
                        function Require() { return attempt(() => require('fs').readFileSync('/etc/passwd')); }
                        function Network() { return attempt(() => fetch('http://127.0.0.1:1/')); }
                        function Socket() { return attempt(() => new (Java.type('java.net.Socket'))('127.0.0.1', 1)); }
                        function Spawn() { return attempt(() => Java.type('java.lang.ProcessBuilder')); }
                        function Thread_() { return attempt(() => new (Java.type('java.lang.Thread'))(() => {}).start()); }
                        function Timer() { return attempt(() => setTimeout(() => {}, 10)); }
                        function WebWorker() { return attempt(() => new Worker('x.js')); }
                        function PolyglotEval() { return attempt(() => Polyglot.eval('python', '1')); }
                        function PolyglotImport() { return attempt(() => Polyglot.import('anything')); }
                        function Environment() { return attempt(() => process.env.PATH); }
                        function Print() { return attempt(() => print('to stdout')); }
                        function HostObject() { return typeof host + ' ' + typeof invoke; }
                        function OtherGlobals() { return typeof secret + ' ' + typeof Secret; }
                        function ThroughProcess() { return Process('scripts.other.Secret'); }
                        """);
        harness = Harness.open(app.dir());
    }

    @AfterAll
    static void close() {
        harness.close();
    }

    private static void assertBlocked(String function, String reason) {
        String result = (String) harness.call("scripts.escape." + function);
        assertTrue(result.startsWith("blocked: "), function + " -> " + result);
        assertTrue(result.contains(reason), function + " -> " + result + " (expected «" + reason + "»)");
    }

    @Test
    void noJavaClasses() {
        assertBlocked("JavaType", "Access to host class java.lang.System is not allowed");
    }

    @Test
    void noJavaPackages() {
        assertBlocked("Packages_", "java.lang.Runtime.getRuntime is not a function");
    }

    @Test
    void noFilesThroughLoad() {
        assertBlocked("ReadFile", "ReferenceError: load is not defined");
    }

    @Test
    void noFilesThroughNashornHelpers() {
        assertBlocked("ReadFileNashorn", "ReferenceError: readFully is not defined");
    }

    @Test
    void noFilesThroughRequire() {
        assertBlocked("Require", "ReferenceError: require is not defined");
    }

    @Test
    void noNetworkThroughFetch() {
        assertBlocked("Network", "ReferenceError: fetch is not defined");
    }

    @Test
    void noNetworkThroughJavaSockets() {
        assertBlocked("Socket", "Access to host class java.net.Socket is not allowed");
    }

    @Test
    void noProcesses() {
        assertBlocked("Spawn", "Access to host class java.lang.ProcessBuilder is not allowed");
    }

    @Test
    void noThreads() {
        assertBlocked("Thread_", "Access to host class java.lang.Thread is not allowed");
    }

    @Test
    void noTimersThatOutliveTheRun() {
        assertBlocked("Timer", "ReferenceError: setTimeout is not defined");
    }

    @Test
    void noWorkers() {
        assertBlocked("WebWorker", "ReferenceError: Worker is not defined");
    }

    @Test
    void noOtherLanguages() {
        assertBlocked("PolyglotEval", "Error");
    }

    @Test
    void noPolyglotBindings() {
        assertBlocked("PolyglotImport", "Error");
    }

    @Test
    void noEnvironment() {
        assertBlocked("Environment", "ReferenceError: process is not defined");
    }

    @Test
    void noStdout() {
        assertBlocked("Print", "ReferenceError: print is not defined");
    }

    @Test
    void theHostBridgeIsNotReachable() {
        assertEquals("undefined undefined", harness.call("scripts.escape.HostObject"));
    }

    @Test
    void anotherFilesGlobalsAreNotVisibleButItsFunctionsAreCallableAsProcesses() {
        assertEquals("undefined undefined", harness.call("scripts.escape.OtherGlobals"));
        assertEquals("other file", harness.call("scripts.escape.ThroughProcess"));
    }
}
