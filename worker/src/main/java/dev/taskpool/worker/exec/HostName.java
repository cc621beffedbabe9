package dev.taskpool.worker.exec;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This machine's name, for worker ids and presence records. {@code HOSTNAME} is set in containers
 * but bash does not export it, so a worker started from a shell would not see it: the resolver's
 * answer comes next, then the kernel's {@code /proc/sys/kernel/hostname}, and "host" only when
 * none of them knows.
 */
final class HostName {
    private static final String NAME = find();

    private HostName() {
    }

    static String get() {
        return NAME;
    }

    private static String find() {
        String fromEnvironment = System.getenv("HOSTNAME");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment.strip();
        }
        try {
            String resolved = InetAddress.getLocalHost().getHostName();
            if (resolved != null && !resolved.isBlank()) {
                return resolved;
            }
        } catch (IOException | RuntimeException e) {
            // the resolver does not know this host: the kernel's name below
        }
        try {
            String kernel = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!kernel.isEmpty()) {
                return kernel;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "host";
    }
}
