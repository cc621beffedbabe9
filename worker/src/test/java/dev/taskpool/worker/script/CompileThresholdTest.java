package dev.taskpool.worker.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** TASKPOOL_SCRIPT_COMPILE_AFTER: when GraalJS compiles a script function. */
class CompileThresholdTest {

    @Test
    void unsetOrBlankMeansTheDefault() {
        assertEquals(ScriptEngine.DEFAULT_COMPILE_AFTER, ScriptEngine.compileThreshold(null));
        assertEquals(ScriptEngine.DEFAULT_COMPILE_AFTER, ScriptEngine.compileThreshold("  "));
        assertEquals(50_000, ScriptEngine.DEFAULT_COMPILE_AFTER, "the default the README and BENCHMARKS.md give");
    }

    @Test
    void aCountIsTakenAsGivenWithUnderscoresAndSpacesAllowed() {
        assertEquals(400, ScriptEngine.compileThreshold("400"));
        assertEquals(50_000, ScriptEngine.compileThreshold(" 50_000 "));
        assertEquals(0, ScriptEngine.compileThreshold("0"), "0 hands the thresholds back to GraalJS");
    }

    @Test
    void aBadValueIsRefusedNamingTheVariableAndTheValue() {
        for (String bad : new String[] {"soon", "-1", "1.5", "100000001", "99999999999"}) {
            ScriptException e = assertThrows(ScriptException.class, () -> ScriptEngine.compileThreshold(bad), bad);
            assertTrue(e.getMessage().contains("TASKPOOL_SCRIPT_COMPILE_AFTER") && e.getMessage().contains("'" + bad + "'"),
                    "the message names the variable and the value: " + e.getMessage());
        }
    }
}
