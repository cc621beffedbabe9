package dev.taskpool.worker.script;

import dev.taskpool.core.json.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Value;

/**
 * One pooled GraalJS context: the bootstrap globals, and each script file's scope evaluated the
 * first time a function of it is called here (top-level state such as a counter then lives as
 * long as the context). A context is used by one thread at a time.
 */
public final class JsContext implements AutoCloseable {
    private final Context context;
    private final Value invoke;
    private final Value toJson;
    private final Map<String, Value> scopes = new HashMap<>();
    private final Map<String, Value> functions = new HashMap<>();
    private volatile boolean broken;

    JsContext(Context context, Value bootstrap) {
        this.context = context;
        this.invoke = bootstrap.getMember("invoke");
        this.toJson = bootstrap.getMember("toJson");
    }

    /** Calls {@code function} of {@code file} with plain Java arguments; returns a plain Java value. */
    Object call(ScriptFile file, String function, List<Object> args) {
        Value fn = function(file, function);
        if (allPrimitive(args)) {
            // The common case (ids, numbers, strings) needs no JSON on the way in.
            Value result = fn.execute(args.toArray());
            return toJava(result, file, function);
        }
        List<Object> jsonArgs = new ArrayList<>(args.size());
        List<Integer> errors = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            Object arg = args.get(i);
            if (arg instanceof ScriptError error) {
                errors.add(i);
                jsonArgs.add(error.message());
            } else {
                jsonArgs.add(arg);
            }
        }
        Value result = invoke.execute(fn, Json.write(jsonArgs), Json.write(errors));
        return result.isNull() ? null : Json.toJava(Json.read(result.asString(), "the result of scripts." + file.group() + "." + function));
    }

    private static boolean allPrimitive(List<Object> args) {
        for (Object arg : args) {
            if (!(arg == null || arg instanceof String || arg instanceof Long || arg instanceof Integer
                    || arg instanceof Double || arg instanceof Boolean)) {
                return false;
            }
        }
        return true;
    }

    /** A script's return value as a plain Java value: primitives directly, anything else through JSON. */
    private Object toJava(Value result, ScriptFile file, String function) {
        if (result.isNull()) {
            return null;
        }
        if (result.isString()) {
            return result.asString();
        }
        if (result.isBoolean()) {
            return result.asBoolean();
        }
        if (result.isNumber()) {
            if (result.fitsInLong()) {
                return result.asLong();
            }
            double value = result.asDouble();
            if (Double.isNaN(value) || Double.isInfinite(value)) {
                return null;   // as JSON.stringify writes them
            }
            return value;
        }
        Value json = toJson.execute(result, "the result of " + function);
        return json.isNull() ? null : Json.toJava(Json.read(json.asString(), "the result of scripts." + file.group() + "." + function));
    }

    private Value function(ScriptFile file, String name) {
        String key = file.group() + "#" + name;
        Value cached = functions.get(key);
        if (cached != null) {
            return cached;
        }
        Value scope = scopes.computeIfAbsent(file.group(), group -> context.eval(file.source()));
        Value fn;
        try {
            fn = scope.execute(name);
        } catch (PolyglotException e) {
            if (e.isGuestException() && !e.isInterrupted() && !e.isCancelled()) {
                throw new ScriptException("unknown process scripts." + file.group() + "." + name + ": "
                        + file.path() + " defines no function " + name);
            }
            throw e;
        }
        if (!fn.canExecute()) {
            throw new ScriptException("scripts." + file.group() + "." + name + " is not a function in " + file.path());
        }
        functions.put(key, fn);
        return fn;
    }

    /**
     * Stops what runs in this context now (from another thread). Returns false when the
     * context did not stop within {@code limit}; it is then closed and must not be reused.
     */
    public boolean interrupt(Duration limit) {
        try {
            context.interrupt(limit);
            return true;
        } catch (TimeoutException e) {
            broken = true;
            try {
                context.close(true);
            } catch (RuntimeException ignored) {
                // cancelling a context that is stuck in host code may itself fail; it is discarded anyway
            }
            return false;
        } catch (IllegalStateException e) {
            broken = true;
            return false;
        }
    }

    boolean isBroken() {
        return broken;
    }

    public void markBroken() {
        broken = true;
    }

    @Override
    public void close() {
        try {
            context.close(true);
        } catch (RuntimeException ignored) {
            // closing a cancelled context can fail; nothing is left to release
        }
    }
}
