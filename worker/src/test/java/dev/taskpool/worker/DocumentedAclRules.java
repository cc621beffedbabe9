package dev.taskpool.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ACL users exactly as docs/acl.md defines them: every line {@code ACL SETUSER NAME on >PASSWORD
 * RULES...} of docs/acl.md, read when a test starts, so that the rules a test creates users from are
 * the ones a reader copies (the page and the tests cannot drift apart). A {@code {KIND}} in a rule
 * (a per-kind channel pattern) is replaced by the test's kinds.
 */
public final class DocumentedAclRules {
    /** The placeholder for a task kind in a rule, e.g. {@code &taskpool:{KIND}:events:*}. */
    public static final String KIND = "{KIND}";
    private static final Pattern SETUSER = Pattern.compile("(?m)^ACL SETUSER (\\S+) on >PASSWORD (.+)$");

    private final Map<String, String> rulesByUser;

    private DocumentedAclRules(Map<String, String> rulesByUser) {
        this.rulesByUser = rulesByUser;
    }

    /** The ACL page of this repository's docs (tests run in a module's directory). */
    public static DocumentedAclRules read() {
        Path readme = Path.of("..", "docs", "acl.md");
        try {
            return parse(Files.readString(readme));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + readme.toAbsolutePath() + " for its ACL users", e);
        }
    }

    static DocumentedAclRules parse(String readme) {
        Map<String, String> rules = new LinkedHashMap<>();
        Matcher line = SETUSER.matcher(readme);
        while (line.find()) {
            if (rules.put(line.group(1), line.group(2).trim()) != null) {
                throw new IllegalStateException("docs/acl.md defines ACL user " + line.group(1) + " twice");
            }
        }
        if (rules.isEmpty()) {
            throw new IllegalStateException("docs/acl.md has no 'ACL SETUSER NAME on >PASSWORD ...' line");
        }
        return new DocumentedAclRules(rules);
    }

    /** {@code rules} without the rules given (e.g. a command taken away to see how its refusal reads). */
    public static String without(String rules, String... taken) {
        List<String> left = new ArrayList<>(List.of(rules.split(" +")));
        for (String rule : taken) {
            if (!left.remove(rule)) {
                throw new IllegalArgumentException("the rules have no " + rule + ": " + rules);
            }
        }
        return String.join(" ", left);
    }

    /** The users docs/acl.md defines, in its order. */
    public List<String> users() {
        return List.copyOf(rulesByUser.keySet());
    }

    /**
     * The rules of {@code user} (everything after {@code on >PASSWORD}), each per-kind rule repeated
     * for every kind given; one string, rules separated by single spaces.
     */
    public String of(String user, String... kinds) {
        String rules = rulesByUser.get(user);
        if (rules == null) {
            throw new IllegalArgumentException("docs/acl.md defines no ACL user " + user + " (it has " + users() + ")");
        }
        StringBuilder expanded = new StringBuilder();
        for (String rule : rules.split(" +")) {
            if (rule.contains(KIND)) {
                for (String kind : kinds) {
                    expanded.append(' ').append(rule.replace(KIND, "{" + kind + "}"));
                }
            } else {
                expanded.append(' ').append(rule);
            }
        }
        return expanded.toString().trim();
    }
}
