package dev.taskpool.core.redis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The Lua scripts, one per state transition; each file's header lists its KEYS, ARGV and returns. */
public enum LuaScript {
    DEFINE("define-1.lua"),
    ENQUEUE("enqueue-7.lua"),
    FINISH("finish-6.lua"),
    PROGRESS("progress-1.lua"),
    RETRY("retry-3.lua"),
    RELEASE("release-4.lua"),
    HEARTBEAT("heartbeat-2.lua"),
    RECOVER("recover-6.lua");

    private final String file;
    private final String source;
    private final String sha;

    LuaScript(String file) {
        this.file = file;
        this.source = load(file);
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

    private static String load(String file) {
        try (InputStream in = LuaScript.class.getResourceAsStream("/taskpool/lua/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource taskpool/lua/" + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read script resource taskpool/lua/" + file, e);
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
