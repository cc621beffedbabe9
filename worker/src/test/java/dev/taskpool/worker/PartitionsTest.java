package dev.taskpool.worker;

import dev.taskpool.core.testing.RedisFixture;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link PartitionsCases} on the tests' standalone Redis; each test's kinds are deleted after it. */
class PartitionsTest extends PartitionsCases {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @Override
    protected String redisUri() {
        return fixture.uri();
    }

    @Override
    protected String newKind(String base) {
        return fixture.newTask(base);
    }
}
