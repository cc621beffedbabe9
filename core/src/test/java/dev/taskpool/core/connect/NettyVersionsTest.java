package dev.taskpool.core.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.taskpool.core.TaskpoolException;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A Lettuce that cannot link its Netty classes is named with the Netty versions that do not fit together. */
class NettyVersionsTest {
    @Test
    void nettyModulesOfTwoVersionsAreNamedWithTheWayOut() {
        Map<String, String> versions = new TreeMap<>(Map.of("netty-common", "4.1.125.Final", "netty-transport", "4.1.125.Final",
                "netty-transport-classes-epoll", "4.2.13.Final"));
        NoClassDefFoundError missing = new NoClassDefFoundError("io/netty/channel/IoHandle");
        TaskpoolException e = NettyVersions.explain(missing, versions, "6.8.2.RELEASE/34f8700");
        assertEquals("Lettuce 6.8.2.RELEASE/34f8700 cannot start: the Netty modules on the class path are of 2 versions"
                + " (netty-common 4.1.125.Final, netty-transport 4.1.125.Final, netty-transport-classes-epoll 4.2.13.Final);"
                + " put every io.netty module at the version Lettuce runs on, e.g. by importing io.netty:netty-bom in"
                + " dependencyManagement (java.lang.NoClassDefFoundError: io/netty/channel/IoHandle)", e.getMessage());
        assertSame(missing, e.getCause());
    }

    @Test
    void anyOtherLinkageFailureIsPassedOnWithLettucesVersion() {
        NoSuchMethodError missing = new NoSuchMethodError("io.netty.Something.gone()");
        TaskpoolException e = NettyVersions.explain(missing, Map.of("netty-common", "4.2.15.Final", "netty-transport", "4.2.15.Final"),
                null);
        assertEquals("Lettuce (version unknown) cannot start on this class path: java.lang.NoSuchMethodError: io.netty.Something.gone()",
                e.getMessage());
    }
}
