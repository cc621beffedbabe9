package dev.taskpool.core.definition;

import dev.taskpool.core.TaskpoolException;
import java.util.regex.Pattern;

/**
 * Task ids become part of Redis keys ({@code taskpool:{<id>}:...}); braces, colons, spaces and
 * the like would break that layout, so an id is dot-separated words of letters, digits, '_' and '-'.
 */
public final class TaskIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
    /** Ids are JavaScript-safe integers: the seed hands them to scripts as numbers. */
    public static final long MAX_TASK_NUMBER = (1L << 53) - 1;

    private TaskIds() {
    }

    public static boolean isValid(String taskId) {
        if (taskId == null || taskId.isEmpty() || taskId.length() > 200) {
            return false;
        }
        // What VALID says, without a regex: every add checks its task id, and a matcher was a
        // tenth of a single add's client-side CPU.
        boolean wordStarted = false;
        for (int i = 0; i < taskId.length(); i++) {
            char c = taskId.charAt(i);
            if (c == '.') {
                if (!wordStarted) {
                    return false;   // an empty word: a leading dot or two dots in a row
                }
                wordStarted = false;
            } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                wordStarted = true;
            } else {
                return false;
            }
        }
        return wordStarted;   // no trailing dot
    }

    /** The same check as {@link #isValid}, by the pattern it implements (for tests). */
    static boolean matchesPattern(String taskId) {
        return taskId != null && taskId.length() <= 200 && VALID.matcher(taskId).matches();
    }

    public static String requireValid(String taskId) {
        if (!isValid(taskId)) {
            throw new TaskpoolException("invalid task id '" + taskId + "': expected dot-separated words of"
                    + " letters, digits, '_' and '-' (at most 200 characters)");
        }
        return taskId;
    }

    /** Checks one task's number (the id that {@code add} returns): 1 to 2^53-1. */
    public static long requireValidNumber(String taskId, long id) {
        if (id < 1 || id > MAX_TASK_NUMBER) {
            throw new TaskpoolException("task " + taskId + ": id " + id
                    + " is out of range: expected an integer from 1 to 2^53-1");
        }
        return id;
    }
}
