package dev.taskpool.worker.script;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.graalvm.polyglot.Source;

/**
 * One file under {@code scripts/}: {@code scripts/mail/util.js} is the group {@code mail.util} of
 * processes {@code scripts.mail.util.<Function>}.
 *
 * <p>The file is evaluated inside a function of its own, so its top-level declarations are its
 * own (two files may both define {@code OnAdd}, and one cannot read another's variables). The
 * wrapper ends with a lookup function that resolves a name in that scope. The wrapper's opening
 * sits on the file's first line, so line numbers in errors are the file's own.
 */
final class ScriptFile {
    private static final Pattern TOP_LEVEL_FUNCTION =
            Pattern.compile("(?<![A-Za-z0-9_$.])(?:async\\s+)?function\\s*\\*?\\s*([A-Za-z_$][A-Za-z0-9_$]*)\\s*\\(");
    private static final Pattern TOP_LEVEL_FUNCTION_VALUE =
            Pattern.compile("(?<![A-Za-z0-9_$.])(?:var|let|const)\\s+([A-Za-z_$][A-Za-z0-9_$]*)\\s*=\\s*(?:async\\s+)?(?:function\\b|\\([^)]*\\)\\s*=>|[A-Za-z_$][A-Za-z0-9_$]*\\s*=>)");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");

    private final String group;
    private final String path;
    private final Source source;
    private final Source plainSource;
    /**
     * Function names the file declares, found by pattern: nested functions count too, so a name
     * found here may still turn out to be no top-level function when it is called.
     */
    private final Set<String> declaredFunctions;

    ScriptFile(String group, String path, String text) {
        this.group = group;
        this.path = path;
        this.source = Source.newBuilder("js", "(function(){" + text
                + "\n;return function (__taskpool_name) { return eval(__taskpool_name); };\n})()", path)
                .cached(true).buildLiteral();
        this.plainSource = Source.newBuilder("js", text, path).cached(false).buildLiteral();
        this.declaredFunctions = new LinkedHashSet<>();
        Matcher matcher = TOP_LEVEL_FUNCTION.matcher(text);
        while (matcher.find()) {
            declaredFunctions.add(matcher.group(1));
        }
        Matcher values = TOP_LEVEL_FUNCTION_VALUE.matcher(text);
        while (values.find()) {
            declaredFunctions.add(values.group(1));
        }
    }

    String group() {
        return group;
    }

    String path() {
        return path;
    }

    Source source() {
        return source;
    }

    /** The file as written, for syntax checks whose positions must be the file's own. */
    Source plainSource() {
        return plainSource;
    }

    Set<String> declaredFunctions() {
        return declaredFunctions;
    }

    /**
     * The function's name as the file declares it: exact, or the one declaration that matches
     * ignoring case (process names are case-insensitive). Empty when the name cannot be one.
     */
    Optional<String> resolve(String function) {
        if (declaredFunctions.contains(function)) {
            return Optional.of(function);
        }
        String lower = function.toLowerCase(Locale.ROOT);
        var matches = declaredFunctions.stream().filter(name -> name.toLowerCase(Locale.ROOT).equals(lower)).toList();
        if (matches.size() == 1) {
            return Optional.of(matches.getFirst());
        }
        // Not a plain declaration (e.g. `var Send = function ...`): look the exact name up at run time.
        return IDENTIFIER.matcher(function).matches() ? Optional.of(function) : Optional.empty();
    }
}
