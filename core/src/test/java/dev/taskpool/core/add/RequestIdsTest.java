package dev.taskpool.core.add;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RequestIdsTest {
    @Test
    void idsAreSixteenUrlSafeCharactersAndNeverRepeatInAProcess() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            String id = RequestIds.next();
            assertEquals(16, id.length(), id);
            assertTrue(id.matches("[A-Za-z0-9_-]{16}"), id);
            assertTrue(seen.add(id), "request id " + id + " was handed out twice");
        }
    }

    @Test
    void idsOfOneProcessShareTheirRandomPrefixAndDifferInTheCounter() {
        String first = RequestIds.next();
        String second = RequestIds.next();
        assertEquals(first.substring(0, 8), second.substring(0, 8), "the first 48 bits are the process's prefix");
        assertTrue(!first.equals(second));
    }
}
