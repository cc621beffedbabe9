package dev.taskpool.worker.script;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.worker.RateLimited;
import dev.taskpool.worker.RetryLater;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
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
    private final Value describeThrown;
    private final Value retryRequest;
    /** 2^53-1: the integers a JSON number holds exactly wherever it is read. */
    private static final long MAX_EXACT = (1L << 53) - 1;
    private final Map<String, Value> scopes = new HashMap<>();
    private final Map<String, Value> functions = new HashMap<>();
    private volatile boolean broken;

    JsContext(Context context, Value bootstrap) {
        this.context = context;
        this.invoke = bootstrap.getMember("invoke");
        this.toJson = bootstrap.getMember("toJson");
        this.describeThrown = bootstrap.getMember("describeThrown");
        this.retryRequest = bootstrap.getMember("retryRequest");
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

    /**
     * Whether the arguments can go to JavaScript as they are. A long past 2^53-1 cannot: GraalJS
     * would keep it as a number that JSON.stringify then refuses as "a BigInt", so it takes the
     * JSON path and becomes the nearest double, as JSON.parse reads it.
     */
    private static boolean allPrimitive(List<Object> args) {
        for (Object arg : args) {
            if (!(arg == null || arg instanceof String || arg instanceof Integer || arg instanceof Double
                    || arg instanceof Boolean || arg instanceof Long value && value >= -MAX_EXACT && value <= MAX_EXACT)) {
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
            // The common numbers directly; the rest (BigInts past 2^53-1, NaN, Infinity, -0, huge
            // integral numbers) through the same JSON rule as numbers nested in an object, so that
            // a value becomes the same thing whichever way it leaves.
            if (result.fitsInLong()) {
                long value = result.asLong();
                if (value >= -MAX_EXACT && value <= MAX_EXACT) {
                    return value;
                }
            } else if (result.fitsInDouble()) {
                double value = result.asDouble();
                if (Double.isFinite(value) && value != Math.rint(value)) {
                    return value;   // a fraction: never a BigInt, never -0
                }
            }
        }
        Value json = toJson.execute(result, "the result of " + function);
        return json.isNull() ? null : Json.toJava(Json.read(json.asString(), "the result of scripts." + file.group() + "." + function));
    }

    /**
     * What a script threw, when its message alone would lose something: a value that is no
     * {@code Error} ({@code throw {code: 7}}, {@code throw 'text'}) as its content (JSON for an
     * object), an {@code Error} with fields of its own as "message {fields}". Null for a bare
     * {@code Error}, whose "Name: message" the exception already carries, and when the value
     * cannot be read any more.
     */
    String describeThrown(PolyglotException e) {
        if (!e.isGuestException() || e.isInterrupted() || e.isCancelled() || e.isInternalError() || broken) {
            return null;
        }
        try {
            Value thrown = e.getGuestObject();
            if (thrown == null) {
                return null;
            }
            Value text = describeThrown.execute(thrown);
            return text.isString() ? text.asString() : null;
        } catch (RuntimeException unreadable) {
            return null;   // describing is best effort: the exception's own message remains
        }
    }

    /**
     * When the script threw {@code RetryLater(wait, message, options)}: the {@link RetryLater} it
     * asks for, or, when its values are wrong (a wait that is no number of milliseconds from 0 to
     * {@link RetryLater#MAX_WAIT}, an unknown option), a {@link ScriptException} saying which, from
     * {@code process}. Null for anything else it threw.
     */
    RuntimeException retryRequest(PolyglotException e, String process, String location) {
        if (!e.isGuestException() || e.isInterrupted() || e.isCancelled() || e.isInternalError() || broken) {
            return null;
        }
        JsonNode request;
        try {
            Value thrown = e.getGuestObject();
            Value text = thrown == null ? null : retryRequest.execute(thrown);
            if (text == null || !text.isString()) {
                return null;
            }
            request = Json.read(text.asString(), "the RetryLater of " + process);
        } catch (RuntimeException unreadable) {
            return null;   // (the thrown value can no longer be read: it fails the run as any error)
        }
        if (request.has("problem")) {
            return new ScriptException(process + ": " + request.path("problem").asText(), location, e);
        }
        double millis = request.path("wait").asDouble();
        try {
            // A fraction of a millisecond rounds up: never earlier than asked.
            Duration wait = Duration.ofMillis((long) Math.ceil(millis));
            if (request.path("holdsKind").asBoolean(false)) {
                return new RateLimited(wait, request.path("message").asText());
            }
            return new RetryLater(wait, request.path("message").asText(), request.path("counts").asBoolean(true));
        } catch (IllegalArgumentException refused) {
            return new ScriptException(process + ": " + refused.getMessage(), location, e);
        }
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
     * context did not stop within {@code limit}; it is then closed and must not be reused. Only
     * through a {@link ContextLease}, which checks that the context is still the
     * interrupted run's.
     */
    boolean interrupt(Duration limit) {
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

    /** Parses {@code source} without running it (a syntax check; the engine keeps what it parsed for later runs). */
    void parse(Source source) {
        context.parse(source);
    }

    boolean isBroken() {
        return broken;
    }

    void markBroken() {
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
