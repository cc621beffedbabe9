package dev.taskpool.worker.script;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.EnvironmentAccess;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.PolyglotAccess;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.io.IOAccess;

/**
 * The app's JavaScript: one shared GraalJS {@link Engine} (parsed sources are cached in it) and
 * a pool of sandboxed {@link JsContext}s, reused across calls because creating one costs
 * milliseconds. A thread that already holds a context (a script calling {@code Process}, which
 * calls another script) keeps using it, so nested calls see the same script state.
 */
public final class ScriptEngine implements AutoCloseable {
    private static final Source BOOTSTRAP = loadBootstrap();

    private final Engine engine;
    private final Map<String, ScriptFile> files;
    private final ExportedHost host;
    private final LinkedBlockingDeque<JsContext> idle = new LinkedBlockingDeque<>();
    private final AtomicBoolean creating = new AtomicBoolean();
    /**
     * How long a borrower waits for a context to come back before it creates one while another
     * is being created: short calls give theirs back within this, and a burst of runs does not
     * create a context each (each costs milliseconds, and every extra one makes the shared
     * compiled code see more shapes).
     */
    private static final long BORROW_WAIT_MICROS = 2000;
    private final ThreadLocal<JsContext> current = new ThreadLocal<>();
    /** What each thread holds right now, so that another thread can interrupt it. */
    private final ConcurrentHashMap<Thread, ContextLease> holders = new ConcurrentHashMap<>();
    private final AtomicInteger created = new AtomicInteger();

    private ScriptEngine(Engine engine, Map<String, ScriptFile> files, HostBridge bridge) {
        this.engine = engine;
        this.files = files;
        this.host = new ExportedHost(bridge);
    }

    /**
     * Loads every {@code scripts/**}{@code /*.js} of the app and checks its syntax; one
     * {@link ScriptException} lists every file with an error, with its line.
     */
    public static ScriptEngine load(Path appDir, HostBridge bridge) {
        Map<String, ScriptFile> files = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Path scriptsDir = appDir == null ? null : appDir.resolve("scripts");   // (no app directory: Java processors only)
        if (scriptsDir != null && Files.isDirectory(scriptsDir)) {
            List<Path> paths;
            try (Stream<Path> walk = Files.walk(scriptsDir)) {
                paths = walk.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".js"))
                        .sorted(Comparator.comparing(Path::toString)).toList();
            } catch (IOException e) {
                throw new ScriptException("cannot list " + scriptsDir + ": " + e.getMessage(), e);
            }
            for (Path path : paths) {
                String relative = appDir.relativize(path).toString().replace('\\', '/');
                String group = scriptsDir.relativize(path).toString().replace('\\', '/');
                group = group.substring(0, group.length() - ".js".length()).replace('/', '.');
                try {
                    files.put(group.toLowerCase(Locale.ROOT), new ScriptFile(group, relative, Files.readString(path)));
                } catch (IOException e) {
                    problems.add(relative + ": cannot read the file: " + e.getMessage());
                }
            }
        }
        // An app without scripts (Java processes only) never starts GraalJS: no engine, no contexts.
        Engine engine = files.isEmpty() ? null : newEngine();
        ScriptEngine scripts = new ScriptEngine(engine, files, bridge);
        problems.addAll(scripts.checkSyntax());
        if (!problems.isEmpty()) {
            scripts.close();
            throw new ScriptException(problems.size() == 1 ? "script error: " + problems.getFirst()
                    : problems.size() + " script errors:\n  " + String.join("\n  ", problems));
        }
        return scripts;
    }

    /**
     * The shared engine. Its own log (compilations, deoptimizations) goes to the file named by
     * TASKPOOL_SCRIPT_LOG when set, to see what GraalJS does with the app's scripts; with
     * {@code -Dpolyglot.engine.TraceCompilation=true}, say.
     */
    private static Engine newEngine() {
        String mode = scriptMode();
        int compileAfter = compileThreshold();
        OutputStream log = engineLog();
        try {
            return newEngine(mode, compileAfter, log);
        } catch (IllegalArgumentException noSuchOption) {
            // Without the Graal compiler (TASKPOOL_COMPILER=off) nothing is compiled: there is no
            // mode or threshold to choose.
            return newEngine(null, 0, log);
        }
    }

    private static Engine newEngine(String mode, int compileAfter, OutputStream log) {
        Engine.Builder builder = Engine.newBuilder("js")
                .option("engine.WarnInterpreterOnly", "false")
                .out(OutputStream.nullOutputStream())
                .err(OutputStream.nullOutputStream());
        if (mode != null) {
            builder.option("engine.Mode", mode);
        }
        if (compileAfter > 0) {
            // Both options are marked experimental by GraalJS, hence the permission.
            builder.allowExperimentalOptions(true)
                    .option("engine.FirstTierCompilationThreshold", Integer.toString(compileAfter))
                    .option("engine.SingleTierCompilationThreshold", Integer.toString(compileAfter))
                    // Fixed, not scaled down to a tenth when the compiler is idle (GraalJS's default).
                    .option("engine.DynamicCompilationThresholds", "false");
        }
        if (log != null) {
            builder.logHandler(log);
        }
        return builder.build();
    }

    private static OutputStream engineLog() {
        String log = System.getenv("TASKPOOL_SCRIPT_LOG");
        if (log == null || log.isBlank()) {
            return null;
        }
        try {
            return Files.newOutputStream(Path.of(log));
        } catch (IOException | InvalidPathException e) {
            throw new ScriptException("TASKPOOL_SCRIPT_LOG: cannot write " + log + ": " + e.getMessage(), e);
        }
    }

    /**
     * GraalJS's compilation mode, from TASKPOOL_SCRIPT_MODE: {@code latency} (the default) compiles
     * sooner and lighter, which suits many short calls (a processor per task) and measured 40%
     * more no-op tasks per second here; {@code throughput} (GraalJS's own default) gives scripts
     * that loop for long a higher peak (BENCHMARKS.md).
     */
    static String scriptMode() {
        String mode = System.getenv("TASKPOOL_SCRIPT_MODE");
        if (mode == null || mode.isBlank()) {
            return "latency";
        }
        mode = mode.trim().toLowerCase(Locale.ROOT);
        if (!mode.equals("latency") && !mode.equals("throughput")) {
            throw new ScriptException("TASKPOOL_SCRIPT_MODE must be latency or throughput, not '" + mode + "'");
        }
        return mode;
    }

    /** GraalJS compiles a script function after this many calls or loop iterations, unless TASKPOOL_SCRIPT_COMPILE_AFTER says otherwise. */
    static final int DEFAULT_COMPILE_AFTER = 50_000;

    /**
     * After how many calls or loop iterations GraalJS compiles a script function, from
     * TASKPOOL_SCRIPT_COMPILE_AFTER: {@value #DEFAULT_COMPILE_AFTER} by default, 0 for GraalJS's
     * own thresholds (400, lowered further while the compile queue is short). On a stock JDK the
     * compiler is Java code that starts cold: its first compilations cost seconds of CPU, which on
     * a small machine a short burst of light calls (a no-op processor) never earns back, while a
     * script that loops reaches the threshold within one call (BENCHMARKS.md).
     */
    static int compileThreshold() {
        return compileThreshold(System.getenv("TASKPOOL_SCRIPT_COMPILE_AFTER"));
    }

    static int compileThreshold(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_COMPILE_AFTER;
        }
        String text = value.trim().replace("_", "");
        int calls;
        try {
            calls = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            calls = -1;
        }
        if (calls < 0 || calls > 100_000_000) {
            throw new ScriptException("TASKPOOL_SCRIPT_COMPILE_AFTER must be a number of calls from 0 (GraalJS's own"
                    + " thresholds) to 100000000, not '" + value.trim() + "'");
        }
        return calls;
    }

    /**
     * Parses every file in one context; with no error, that context becomes the pool's first (the
     * first context made costs the most: a fresh worker made one for this check and another for
     * its first run).
     */
    private List<String> checkSyntax() {
        List<String> problems = new ArrayList<>();
        if (engine == null) {
            return problems;
        }
        JsContext checking = create();
        for (ScriptFile file : files.values()) {
            try {
                checking.parse(file.plainSource());
                checking.parse(file.source());
            } catch (PolyglotException e) {
                // GraalJS reports "<path>:<line>:<column> <what>"; keep that line, not the excerpt.
                String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("syntax error");
                problems.add(message.contains(file.path()) ? message : file.path() + ": " + message);
            }
        }
        if (problems.isEmpty()) {
            idle.addFirst(checking);
        } else {
            checking.close();
        }
        return problems;
    }

    /** The file for a process group ({@code task} for {@code scripts.task.Send}), case-insensitive. */
    public Optional<ScriptFile> file(String group) {
        return Optional.ofNullable(files.get(group.toLowerCase(Locale.ROOT)));
    }

    /** Whether {@code scripts.<group>.<function>} can name a function of the app. */
    public boolean declares(String group, String function) {
        return file(group).map(file -> file.declaredFunctions().stream()
                .anyMatch(name -> name.equalsIgnoreCase(function))).orElse(false);
    }

    /** Calls {@code scripts.<group>.<function>(args...)}. */
    public Object call(String group, String function, List<Object> args) {
        ScriptFile file = file(group).orElseThrow(() -> new ScriptException("unknown process scripts." + group + "."
                + function + ": there is no scripts/" + group.replace('.', '/') + ".js"));
        String name = file.resolve(function).orElseThrow(() -> new ScriptException("unknown process scripts."
                + group + "." + function + ": '" + function + "' is not a JavaScript identifier"));
        return withContext(context -> {
            try {
                return context.call(file, name, args);
            } catch (PolyglotException e) {
                String process = "scripts." + file.group() + "." + name;
                RuntimeException retryLater = context.retryRequest(e, process, scriptLocation(e));
                throw retryLater != null ? retryLater : translate(e, process, context.describeThrown(e));
            }
        });
    }

    /**
     * Runs {@code work} with this thread's context, borrowing one from the pool (and giving it
     * back afterwards) when the thread holds none.
     */
    public <T> T withContext(Function<JsContext, T> work) {
        JsContext held = current.get();
        if (held != null) {
            return work.apply(held);
        }
        JsContext context = borrow();
        current.set(context);
        Thread thread = Thread.currentThread();
        ContextLease lease = new ContextLease(context);
        holders.put(thread, lease);
        try {
            return work.apply(context);
        } finally {
            holders.remove(thread, lease);
            current.remove();
            lease.end();
            giveBack(context);
        }
    }

    /**
     * Stops the script that {@code thread} runs now, if any, and marks its context as not to be
     * reused. Returns false when the script did not stop within {@code limit} (its context is then
     * closed). A thread that gives its context back meanwhile is left alone, and so is whoever
     * borrows that context next.
     */
    public boolean interrupt(Thread thread, Duration limit) {
        return interrupt(thread, limit, () -> { });
    }

    /** As {@link #interrupt(Thread, Duration)}; {@code afterLookup} runs between finding the lease and using it (tests hold the two apart there). */
    boolean interrupt(Thread thread, Duration limit, Runnable afterLookup) {
        ContextLease lease = holders.get(thread);
        if (lease == null) {
            return true;
        }
        afterLookup.run();
        return lease.interrupt(limit);
    }

    private JsContext borrow() {
        JsContext context = idle.pollFirst();
        if (context != null) {
            return context;
        }
        if (creating.compareAndSet(false, true)) {
            try {
                return create();
            } finally {
                creating.set(false);
            }
        }
        try {
            context = idle.pollFirst(BORROW_WAIT_MICROS, TimeUnit.MICROSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return context != null ? context : create();
    }

    private void giveBack(JsContext context) {
        if (context.isBroken()) {
            context.close();
        } else {
            idle.addFirst(context);
        }
    }

    private JsContext create() {
        if (engine == null) {
            throw new ScriptException("the app has no scripts (no scripts/**/*.js), so no JavaScript can run");
        }
        created.incrementAndGet();
        Context context = newContextBuilder().build();
        try {
            var invoke = context.eval(BOOTSTRAP).execute(host);
            return new JsContext(context, invoke);
        } catch (RuntimeException e) {
            context.close(true);
            throw e;
        }
    }

    /** The sandbox: no host classes, files, network, processes, threads or environment. */
    private Context.Builder newContextBuilder() {
        return Context.newBuilder("js")
                .engine(engine)
                .allowHostAccess(HostAccess.EXPLICIT)
                .allowHostClassLookup(className -> false)
                .allowIO(IOAccess.NONE)
                .allowCreateThread(false)
                .allowCreateProcess(false)
                .allowNativeAccess(false)
                .allowPolyglotAccess(PolyglotAccess.NONE)
                .allowEnvironmentAccess(EnvironmentAccess.NONE)
                .option("js.print", "false")
                .option("js.load", "false");
    }

    /**
     * A script failure as a {@link ScriptException} with the script's own message: an
     * {@code Error}'s "Name: message" ("message" alone for a plain Error), or, for any other thrown
     * value, {@code thrownText} (its content, e.g. {@code {"code":7}}), with where in the app's
     * scripts it was thrown.
     */
    static RuntimeException translate(PolyglotException e, String process, String thrownText) {
        if (e.isHostException()) {
            Throwable host = e.asHostException();
            return host instanceof RuntimeException runtime ? runtime : new ScriptException(process + ": " + host, host);
        }
        if (e.isInterrupted() || e.isCancelled()) {
            return new ScriptInterruptedException(process + " was interrupted", e);
        }
        String message = thrownText != null ? thrownText : e.getMessage() == null ? "unknown error" : e.getMessage();
        if (thrownText == null && message.startsWith("Error: ")) {
            message = message.substring("Error: ".length());
        }
        if (message.isEmpty()) {
            message = process + " threw an empty message";
        }
        return new ScriptException(message, scriptLocation(e), e);
    }

    /** The innermost frame in the app's own scripts ({@code scripts/mail.js:12}), if any. */
    private static String scriptLocation(PolyglotException e) {
        for (PolyglotException.StackFrame frame : e.getPolyglotStackTrace()) {
            var location = frame.getSourceLocation();
            if (frame.isGuestFrame() && location != null && location.getSource().getName().startsWith("scripts/")) {
                return location.getSource().getName() + ":" + location.getStartLine();
            }
        }
        return null;
    }

    public int idleContexts() {
        return idle.size();
    }

    /** "GraalVM CE" when scripts are compiled to machine code, "Interpreted" without the compiler. */
    public String implementationName() {
        return engine == null ? "none (the app has no scripts)" : engine.getImplementationName();
    }

    /** How many contexts this engine has created so far (they are pooled, so this stays small). */
    public int contextsCreated() {
        return created.get();
    }

    @Override
    public void close() {
        JsContext context;
        while ((context = idle.pollFirst()) != null) {
            context.close();
        }
        if (engine != null) {
            engine.close(true);
        }
    }

    private static Source loadBootstrap() {
        try (InputStream in = ScriptEngine.class.getResourceAsStream("/taskpool/js/bootstrap.js")) {
            if (in == null) {
                throw new IllegalStateException("missing resource taskpool/js/bootstrap.js");
            }
            return Source.newBuilder("js", new String(in.readAllBytes(), StandardCharsets.UTF_8), "taskpool-bootstrap.js")
                    .cached(true).build();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read taskpool/js/bootstrap.js", e);
        }
    }
}
