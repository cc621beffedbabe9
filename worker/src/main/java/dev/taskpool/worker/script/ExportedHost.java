package dev.taskpool.worker.script;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.worker.RetryLater;
import java.util.List;
import org.graalvm.polyglot.HostAccess;

/**
 * The host object handed to the bootstrap script. Only the methods marked {@link HostAccess.Export}
 * are visible to JavaScript; every reply is {@code {"ok": value}} or {@code {"error": message}}
 * so that failures reach scripts as ordinary JavaScript errors.
 */
public final class ExportedHost {
    private final HostBridge bridge;

    ExportedHost(HostBridge bridge) {
        this.bridge = bridge;
    }

    @HostAccess.Export
    public String process(String name, String argsJson) {
        try {
            Object result = bridge.process(name, parseArgs(argsJson));
            ObjectNode reply = Json.NODES.objectNode();
            reply.set("ok", Json.toNode(result));
            return reply.toString();
        } catch (RuntimeException e) {
            return error(e);
        }
    }

    @HostAccess.Export
    public String progress(String argsJson) {
        try {
            bridge.progress(parseArgs(argsJson));
            return "{}";
        } catch (RuntimeException e) {
            return error(e);
        }
    }

    @HostAccess.Export
    public void log(String level, String text) {
        bridge.log(level, text);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> parseArgs(String argsJson) {
        return (List<Object>) Json.toJava(Json.read(argsJson, "arguments"));
    }

    /** A failure as the reply a script turns into an Error; a {@link RetryLater} stays one in the calling script. */
    private static String error(RuntimeException e) {
        ObjectNode reply = Json.NODES.objectNode();
        reply.put("error", e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        if (e instanceof RetryLater request) {
            reply.putObject("retryLater").put("wait", request.waitBeforeNextRun().toMillis()).put("counts", request.counts())
                    .put("holdsKind", request.holdsKind());
        }
        return reply.toString();
    }
}
