package dev.taskpool.core.lua;

import dev.taskpool.core.connect.AclRefusal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts, one per state transition; each file's header lists its KEYS, ARGV and returns.
 * A script pulls in the shared parts it uses ({@code _checks.lua}, {@code _codes.lua}, ...) with
 * {@code --@include} lines, which {@link LuaSource} resolves when this class loads: still one text,
 * one EVALSHA, per call.
 */
public enum LuaScript {
    DEFINE("define-2.lua"),
    ENQUEUE("enqueue-10.lua"),
    FINISH("finish-15.lua"),
    PROGRESS("progress-1.lua"),
    RETRY("retry-7.lua"),
    HOLD("hold-1.lua"),
    RELEASE("release-4.lua"),
    HEARTBEAT("heartbeat-2.lua"),
    RECOVER("recover-10.lua"),
    HEAL_DELAYED("heal-delayed-2.lua"),
    CANCEL("cancel-10.lua"),
    RESUBMIT("resubmit-7.lua"),
    PAUSE("pause-1.lua"),
    RESUME("resume-4.lua"),
    DELETE("delete-4.lua"),
    RUN_NOW("run-now-4.lua"),
    SUCCEEDED_PAGE("succeeded-page-1.lua"),
    PRESENCE("presence-1.lua"),
    PROMOTE_DUE("promote-due-5.lua"),
    SCHEDULE_FIRE("schedule-fire-8.lua"),
    SCHEDULE_CLAIM("schedule-claim-1.lua"),
    SCHEDULE_CONTROL("schedule-control-1.lua");

    static {
        // an ACL refusal inside a script names the command on the line Redis points at
        AclRefusal.readScriptsWith(LuaScript::sourceOf);
    }

    private final String file;
    private final String source;
    private final String sha;

    LuaScript(String file) {
        this.file = file;
        this.source = LuaSource.resolve(file);
        this.sha = sha1(source);
    }

    public String file() {
        return file;
    }

    public String source() {
        return source;
    }

    public String sha() {
        return sha;
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The source of the script with this sha; null when it is none of these. */
    static String sourceOf(String sha) {
        for (LuaScript script : values()) {
            if (script.sha.equals(sha)) {
                return script.source;
            }
        }
        return null;
    }
}
