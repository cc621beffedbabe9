package dev.taskpool.core.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lettuce.core.RedisCommandExecutionException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The wordings of Redis 7.2 and newer, which the machine's Redis (7.0) cannot produce: the real
 * refusals of 7.0 are tested end to end (AclUserTest, AclUserCommandsTest). Each must still become
 * the one line that names the rule, and an error that is no refusal must stay as it is.
 */
class AclRefusalTest {
    private static Optional<String> explain(String redisSaid, String channel) {
        return AclRefusal.explain(new RedisCommandExecutionException(redisSaid), "ops", "read the counts of task mail", channel);
    }

    @Test
    void theWordsOfRedis72BecomeTheSameLines() {
        assertEquals(Optional.of("Redis user 'ops' may not run ZCOUNT (needed to read the counts of task mail): add +zcount"
                + " (see docs/acl.md)"), explain("NOPERM User ops has no permissions to run the 'zcount' command", null));
        assertEquals(Optional.of("Redis user 'ops' may not run HMGET (needed to read the counts of task mail): add +hmget"
                + " (see docs/acl.md)"), explain("ERR ACL failure in script: User ops has no permissions to run the"
                + " 'hmget' command script: 0123456789012345678901234567890123456789, on @user_script:20.", null));
        assertEquals(Optional.of("Redis user 'ops' may not run PUBSUB NUMPAT (needed to read the counts of task mail): add"
                + " +pubsub|numpat (see docs/acl.md)"), explain("NOPERM User ops has no permissions to run the"
                + " 'pubsub|numpat' command", null));
        assertEquals(Optional.of("Redis user 'ops' may not access a taskpool key (needed to read the counts of task mail):"
                + " add ~taskpool:* (see docs/acl.md)"), explain("NOPERM No permissions to access a key", null));
        assertEquals(Optional.of("Redis user 'ops' may not use channel taskpool:{*}:control (needed to read the counts of task"
                + " mail): add &taskpool:{*}:control (see docs/acl.md)"),
                explain("NOPERM No permissions to access a channel", "taskpool:{*}:control"));
    }

    @Test
    void anErrorThatIsNoRefusalIsLeftAlone() {
        assertEquals(Optional.empty(), explain("WRONGTYPE Operation against a key holding the wrong kind of value", null));
        assertEquals(Optional.empty(), explain("OOM command not allowed when used memory > 'maxmemory'.", null));
    }
}
