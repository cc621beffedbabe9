package dev.taskpool.core.connect;

import dev.taskpool.core.TaskpoolException;
import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Redis refusing something to the connected ACL user, as the one line a user reads: which user may
 * not do what, and the rule that would allow it. Redis words a refusal differently at the top level
 * ({@code NOPERM this user has no permissions to run the 'zcount' command}), inside a script
 * ("The user executing the script can't run this command or subcommand", then the script's sha
 * and line) and across versions (7.2 names the user and, in a script, the command); a
 * refusal of a key or a channel never names it. What Redis leaves out is filled in from what we
 * know: the command on the script's line, and what the caller was doing.
 */
public final class AclRefusal {
    /** Where the rules of each user are listed, named by every line. */
    public static final String SEE = "(see docs/acl.md)";

    private static final Pattern COMMAND = Pattern.compile("permissions to run the '([^']+)' command");
    private static final Pattern SCRIPT_LINE = Pattern.compile("script: ([0-9a-f]{40}), on @user_script:(\\d+)");
    private static final Pattern CALL = Pattern.compile("redis\\.p?call\\('([A-Za-z]+)'");

    /**
     * The source of one of taskpool's scripts by its sha (null: not one of them), to find the
     * command on the line Redis points at. The scripts live in {@code core.lua}, which builds on this
     * package, so they tell it: a refusal inside a script comes from a script this JVM sent, and
     * sending one has loaded them.
     */
    private static volatile UnaryOperator<String> scriptSources = sha -> null;

    private AclRefusal() {
    }

    /** Where a refusal inside a script finds that script's source by its sha (see {@link #scriptSources}). */
    public static void readScriptsWith(UnaryOperator<String> sourceBySha) {
        scriptSources = sourceBySha;
    }

    /**
     * The one line for {@code error} when it (or a cause) is an ACL refusal; empty for any other error.
     *
     * @param user   the Redis user connected (null: unknown)
     * @param doing  what was being done, as after "needed to" (e.g. "read the counts of task mail"; null: nothing said)
     * @param channel the channel or pattern subscribed to, for a refused SUBSCRIBE or PSUBSCRIBE (null: none)
     */
    public static Optional<String> explain(Throwable error, String user, String doing, String channel) {
        String redisSaid = refusal(error);
        if (redisSaid == null) {
            return Optional.empty();
        }
        String who = user == null ? "The Redis user" : "Redis user '" + user + "'";
        String why = doing == null ? "" : " (needed to " + doing + ")";
        String command = commandNamed(redisSaid);
        if (command != null) {
            return Optional.of(who + " may not run " + command.toUpperCase(Locale.ROOT).replace('|', ' ') + why
                    + ": add +" + command.toLowerCase(Locale.ROOT) + " " + SEE);
        }
        String lower = redisSaid.toLowerCase(Locale.ROOT);
        if (lower.contains("the channel") || lower.contains("of the channels") || lower.contains("a channel")) {
            // Redis compares a PSUBSCRIBE pattern literally with the user's channel rules, so the rule is the pattern itself.
            String rule = channel != null ? "&" + channel : "&taskpool:*";
            return Optional.of(who + " may not use " + (channel != null ? "channel " + channel : "a taskpool channel") + why
                    + ": add " + rule + " " + SEE);
        }
        if (lower.contains("the keys") || lower.contains("a key")) {
            return Optional.of(who + " may not access a taskpool key" + why + ": add ~taskpool:* " + SEE);
        }
        return Optional.of(who + " may not run a command inside a taskpool script" + why + " (Redis: " + firstLine(redisSaid)
                + "): give it every rule of its role " + SEE);
    }

    /** As {@link #explain(Throwable, String, String, String)} without a channel. */
    public static Optional<String> explain(Throwable error, String user, String doing) {
        return explain(error, user, doing, null);
    }

    /**
     * What to throw when subscribing to {@code channel} (a channel, or a pattern for PSUBSCRIBE)
     * failed with {@code error}: the one line when Redis refused it to {@code user}, else the error itself.
     */
    public static RuntimeException ofSubscription(RuntimeException error, String user, String channel) {
        return explain(error, user, null, channel)
                .<RuntimeException>map(line -> new TaskpoolException(line, error)).orElse(error);
    }

    /** Whether Redis refused the user something (NOPERM, or a script's refused command) somewhere in {@code error}'s causes. */
    public static boolean refused(Throwable error) {
        return refusal(error) != null;
    }

    /** Redis' words of an ACL refusal somewhere in {@code error}'s causes; null when it is none. */
    static String refusal(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            String message = cause.getMessage();
            if (message != null && isRefusal(message)) {
                return message;
            }
        }
        return null;
    }

    private static boolean isRefusal(String message) {
        return message.startsWith("NOPERM") || message.contains("The user executing the script can't")
                || message.contains("ACL failure in script");
    }

    /** The command Redis named, or the one on the line of the script it pointed at; null when neither. */
    private static String commandNamed(String redisSaid) {
        Matcher named = COMMAND.matcher(redisSaid);
        if (named.find()) {
            return named.group(1);
        }
        Matcher at = SCRIPT_LINE.matcher(redisSaid);
        if (!redisSaid.contains("can't run this command") || !at.find()) {
            return null;
        }
        String source = scriptSources.apply(at.group(1));
        if (source != null) {
            String[] lines = source.split("\n", -1);
            int line = Integer.parseInt(at.group(2));
            if (line >= 1 && line <= lines.length) {
                Matcher call = CALL.matcher(lines[line - 1]);
                return call.find() ? call.group(1) : null;
            }
        }
        return null;
    }

    private static String firstLine(String text) {
        int end = text.indexOf('\n');
        return (end < 0 ? text : text.substring(0, end)).strip();
    }
}
