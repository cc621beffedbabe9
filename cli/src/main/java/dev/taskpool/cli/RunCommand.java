package dev.taskpool.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.json.ValueLimits;
import dev.taskpool.worker.process.ProcessRegistry;
import dev.taskpool.worker.runtime.AppRuntime;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code taskpool run PROCESS [ARG...]}: runs one process in a fresh runtime, like {@code yao run}. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a process (tasks.TASK.add|addWith|get|progress, scripts.FILE.FUNCTION, utils.time.Sleep) in a fresh runtime.",
                "tasks.TASK.addWith takes the options first: '{\"delay\":3000}' (ms) or '{\"at\":EPOCH_MS}', then the task's ARGs.",
                "Each ARG is JSON when it parses as JSON, else a string. The result is printed as JSON on stdout; logs go to stderr."})
final class RunCommand implements Runnable {
    @Mixin
    Options.RedisOption redis;
    @Mixin
    Options.AppOption app;
    @Mixin
    Options.ArgsLimitOption argsLimit;

    @Parameters(index = "0", paramLabel = "PROCESS", description = "the process name, e.g. tasks.example.add")
    String process;

    @Parameters(index = "1..*", paramLabel = "ARG", description = "arguments: JSON, or else a string")
    List<String> args = List.of();

    @Override
    public void run() {
        List<Object> values = new ArrayList<>();
        for (String arg : args) {
            values.add(parseArg(arg));
        }
        try (RedisConnector connector = redis.connect();
             AppRuntime runtime = AppRuntime.open(app.app.toAbsolutePath().normalize(), new AddStore(connector),
                     new ProcessRegistry(), connector.clock(), ValueLimits.defaults().withMaxArgsBytes(argsLimit.maxArgs))) {
            Object result = runtime.call(process, values);
            System.out.println(format(result));
        }
    }

    /** An argument as JSON when it parses as JSON, else as the string itself. */
    static Object parseArg(String arg) {
        try {
            return Json.MAPPER.readValue(arg, Object.class);
        } catch (JsonProcessingException e) {
            return arg;
        }
    }

    /** A value as indented JSON, safe on a terminal ({@link TerminalJson}). */
    static String format(Object result) {
        return TerminalJson.pretty(result);
    }
}
