package dev.taskpool.worker.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A worker started from a shell is named after the machine: bash does not export HOSTNAME, and
 * every such worker used to be called "host-PID-…".
 */
class HostNameTest {
    /** Prints the default worker id of a JVM whose environment has no HOSTNAME. */
    public static void main(String[] args) {
        System.out.println(WorkerSettings.defaults().workerId());
    }

    @Test
    void aWorkerStartedWithoutHostnameInItsEnvironmentIsNamedAfterTheMachine() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), HostNameTest.class.getName());
        builder.environment().remove("HOSTNAME");
        builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process process = builder.start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit within 60 s");
        assertEquals(0, process.exitValue());
        String id = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String host = InetAddress.getLocalHost().getHostName();
        assertTrue(id.startsWith(host.replace('/', '-') + "-"), "worker id " + id + " starts with the host name " + host);
        assertTrue(id.matches(".+-\\d+-[0-9a-f]{6}"), "host-pid-random: " + id);
    }

    @Test
    void hostnameFromTheEnvironmentWinsWhenSet() {
        String fromEnvironment = System.getenv("HOSTNAME");
        String expected = fromEnvironment != null && !fromEnvironment.isBlank() ? fromEnvironment.strip() : null;
        if (expected != null) {
            assertEquals(expected, HostName.get());
        } else {
            assertTrue(!HostName.get().equals("host"), "this machine has a name: " + HostName.get());
        }
    }
}
