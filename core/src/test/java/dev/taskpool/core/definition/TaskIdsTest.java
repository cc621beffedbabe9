package dev.taskpool.core.definition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import org.junit.jupiter.api.Test;

class TaskIdsTest {
    @Test
    void acceptsDottedWords() {
        assertTrue(TaskIds.isValid("example"));
        assertTrue(TaskIds.isValid("mail.send"));
        assertTrue(TaskIds.isValid("a-b_c.d1"));
    }

    @Test
    void refusesCharactersThatWouldBreakKeys() {
        for (String bad : new String[] {"", "a b", "a:b", "a{b}", "a}", ".a", "a.", "a..b", "a*", "任务", null}) {
            assertFalse(TaskIds.isValid(bad), String.valueOf(bad));
        }
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> TaskIds.requireValid("a:b"));
        assertTrue(error.getMessage().contains("invalid task id 'a:b'"));
    }

    /** The hand-written check agrees with the pattern it replaces, on every short string over the characters that matter. */
    @Test
    void theCheckAgreesWithThePatternOnEveryShortString() {
        char[] alphabet = {'a', 'Z', '0', '_', '-', '.', ':', ' ', '{', 'é'};
        StringBuilder id = new StringBuilder();
        int checked = 0;
        for (int length = 0; length <= 4; length++) {
            int combinations = (int) Math.pow(alphabet.length, length);
            for (int n = 0; n < combinations; n++) {
                id.setLength(0);
                for (int i = 0, rest = n; i < length; i++, rest /= alphabet.length) {
                    id.append(alphabet[rest % alphabet.length]);
                }
                assertEquals(TaskIds.matchesPattern(id.toString()), TaskIds.isValid(id.toString()), "'" + id + "'");
                checked++;
            }
        }
        assertEquals(11111, checked);
        assertTrue(TaskIds.isValid("a".repeat(200)));
        assertFalse(TaskIds.isValid("a".repeat(201)), "at most 200 characters");
    }

    @Test
    void taskNumbersAreJavaScriptSafeIntegers() {
        assertEquals(1, TaskIds.requireValidNumber("t", 1));
        assertEquals(TaskIds.MAX_TASK_NUMBER, TaskIds.requireValidNumber("t", (1L << 53) - 1));
        assertThrows(TaskpoolException.class, () -> TaskIds.requireValidNumber("t", 0));
        assertThrows(TaskpoolException.class, () -> TaskIds.requireValidNumber("t", -3));
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> TaskIds.requireValidNumber("t", 1L << 53));
        assertTrue(error.getMessage().contains("out of range"));
    }
}
