package dev.taskpool.core.definition;

import dev.taskpool.core.TaskpoolException;
import java.util.List;

/** One or more task definitions are bad; {@link #problems()} names each file, field and expectation. */
public class DefinitionException extends TaskpoolException {
    private final List<String> problems;

    public DefinitionException(List<String> problems) {
        this("task definition", problems);
    }

    /** @param what what was defined badly ("task definition", "schedule"), for the message */
    public DefinitionException(String what, List<String> problems) {
        super(describe(what, problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    private static String describe(String what, List<String> problems) {
        if (problems.size() == 1) {
            return "bad " + what + ": " + problems.getFirst();
        }
        return problems.size() + " bad " + what + "s:\n  " + String.join("\n  ", problems);
    }
}
