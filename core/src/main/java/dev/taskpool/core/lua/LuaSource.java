package dev.taskpool.core.lua;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a Lua script from {@code taskpool/lua} and puts its shared parts in. Redis runs one text per
 * EVALSHA and a script cannot load another, so the parts are joined here, once, at start-up: a line
 * {@code --@include _name.lua} is replaced by the text of that part (which may include parts of its
 * own). A part is put in once per script: a second include of it, directly or through another
 * part, is an error, as is an include of a missing part or a part that includes itself through
 * others. Errors name the script and the chain of includes, so a broken script fails at start-up,
 * not at its first call.
 */
final class LuaSource {
    static final String DIRECTORY = "/taskpool/lua/";
    static final String MARKER = "--@include ";

    private final String script;
    /** Each part put in so far, with the file whose include put it in. */
    private final Map<String, String> included = new HashMap<>();
    /** The files being read, the script first: an include of one of them is a cycle. */
    private final Deque<String> reading = new ArrayDeque<>();

    private LuaSource(String script) {
        this.script = script;
    }

    /** The text of the script {@code file} with every include resolved. */
    static String resolve(String file) {
        return new LuaSource(file).expand(file);
    }

    private String expand(String file) {
        reading.addLast(file);
        StringBuilder out = new StringBuilder();
        String text = read(file);
        int from = 0;
        while (from < text.length()) {
            int end = text.indexOf('\n', from);
            int next = end < 0 ? text.length() : end + 1;
            String line = text.substring(from, end < 0 ? text.length() : end);
            if (line.startsWith(MARKER)) {
                out.append(part(file, line.substring(MARKER.length()).strip()));
            } else {
                out.append(text, from, next);
            }
            from = next;
        }
        reading.removeLast();
        return out.toString();
    }

    private String part(String includer, String name) {
        if (reading.contains(name)) {
            throw broken("includes itself: " + String.join(" -> ", reading) + " -> " + name);
        }
        String earlier = included.putIfAbsent(name, includer);
        if (earlier != null) {
            throw broken("includes " + name + " twice (from " + earlier + " and from " + includer
                    + "); a part is put in once: include it in one place only");
        }
        String text = expand(name);
        if (text.startsWith("#!")) {
            throw broken("includes " + name + ", which starts with a #! line: only a script may have one");
        }
        return text.endsWith("\n") ? text : text + "\n";
    }

    private IllegalStateException broken(String what) {
        return new IllegalStateException("Lua script " + script + " " + what);
    }

    private String read(String file) {
        try (InputStream in = LuaSource.class.getResourceAsStream(DIRECTORY + file)) {
            if (in == null) {
                throw reading.size() <= 1
                        ? new IllegalStateException("missing script resource taskpool/lua/" + file)
                        : broken("includes " + file + ", which does not exist in taskpool/lua (included from "
                                + String.join(" -> ", reading.stream().limit(reading.size() - 1).toList()) + ")");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read script resource taskpool/lua/" + file, e);
        }
    }
}
