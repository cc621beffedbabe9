package dev.taskpool.core.definition;

import dev.taskpool.core.TaskpoolException;
import java.util.List;

/** One or more task definitions are bad; {@link #problems()} names each file, field and expectation. */
public class DefinitionException extends TaskpoolException {
    private final List<String> problems;

    public DefinitionException(List<String> problems) {
        super(describe(problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    private static String describe(List<String> problems) {
        if (problems.size() == 1) {
            return "bad task definition: " + problems.getFirst();
        }
        return problems.size() + " bad task definitions:\n  " + String.join("\n  ", problems);
    }
}
