package dev.taskpool.core.connect;

import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.RedisClient;
import io.netty.util.Version;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Why Lettuce could not start, when a class of its own or of Netty's fails to link. The usual cause
 * is Netty modules of two versions on one class path: Lettuce 6.8 brings Netty 4.1, and taskpool's
 * native epoll jar (or any other Netty module) at 4.2 beside it fails Lettuce's first client with
 * {@code NoClassDefFoundError: io/netty/channel/IoHandle}, a class 4.1 does not have. A build that
 * puts every {@code io.netty} module at one version (Spring Boot's dependency management does,
 * with the netty-bom) never meets it.
 */
final class NettyVersions {
    private NettyVersions() {
    }

    /** The error to throw in place of {@code failure}, naming the Netty modules' versions when they differ. */
    static TaskpoolException explain(LinkageError failure) {
        return explain(failure, versions(), RedisClient.class.getPackage().getImplementationVersion());
    }

    /** @param versions Netty's modules and their versions, as {@code io.netty.util.Version} reads them from the class path */
    static TaskpoolException explain(LinkageError failure, Map<String, String> versions, String lettuceVersion) {
        String lettuce = "Lettuce " + (lettuceVersion == null ? "(version unknown)" : lettuceVersion);
        long distinct = versions.values().stream().distinct().count();
        if (distinct > 1) {
            String listed = versions.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
            return new TaskpoolException(lettuce + " cannot start: the Netty modules on the class path are of "
                    + distinct + " versions (" + listed + "); put every io.netty module at the version Lettuce runs on,"
                    + " e.g. by importing io.netty:netty-bom in dependencyManagement (" + failure + ")", failure);
        }
        return new TaskpoolException(lettuce + " cannot start on this class path: " + failure, failure);
    }

    private static Map<String, String> versions() {
        Map<String, String> versions = new TreeMap<>();
        try {
            Version.identify().forEach((module, version) -> versions.put(module, version.artifactVersion()));
        } catch (LinkageError unreadable) {
            // netty-common itself is broken: nothing to compare
        }
        return versions;
    }
}
