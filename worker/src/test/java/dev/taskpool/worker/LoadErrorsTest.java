package dev.taskpool.worker;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.core.testing.RedisFixture;
import dev.taskpool.worker.script.ScriptException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A runtime never starts half-configured: every problem of the app is reported at load. */
class LoadErrorsTest {
    @RegisterExtension
    final RedisFixture fixture = new RedisFixture();

    @TempDir
    Path dir;

    @Test
    void processNamesThatResolveToNothingAreEachReportedWithFileAndField() {
        String task = fixture.newTask("unresolved");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.missing.Run", """
                        "event": {"add": "scripts.ok.Nope", "success": "models.x.save", "error": "tasks.ghost.add",
                                  "progress": "tasks.%s.finish"}""".formatted(task))
                .script("ok", "function Fine() { return 1; }");
        DefinitionException error = assertThrows(DefinitionException.class, () -> Harness.open(app.dir()));
        String message = error.getMessage();
        String file = "tasks/" + task + ".yao";
        assertTrue(message.contains(file + ": field \"process\": unknown process 'scripts.missing.Run': there is no scripts/missing.js"), message);
        assertTrue(message.contains(file + ": field \"event.add\": unknown process 'scripts.ok.Nope': scripts/ok.js declares no function Nope"), message);
        assertTrue(message.contains(file + ": field \"event.success\": unknown process 'models.x.save'"), message);
        assertTrue(message.contains(file + ": field \"event.error\": unknown process 'tasks.ghost.add': the app has no task 'ghost'"), message);
        assertTrue(message.contains(file + ": field \"event.progress\": unknown process 'tasks." + task + ".finish'"), message);
    }

    @Test
    void scriptSyntaxErrorsAreReportedWithFileAndLine() {
        String task = fixture.newTask("syntax");
        TestApp app = TestApp.in(dir)
                .task(task, 1, 0, 0, 5, 10, "scripts.good.Run", "")
                .script("good", "function Run() { return 1; }")
                .script("bad", "function A() {\n  return 1;\n}\nfunction B() { return 1 +; }\n")
                .script("worse", "var x = ;\n");
        ScriptException error = assertThrows(ScriptException.class, () -> Harness.open(app.dir()));
        assertTrue(error.getMessage().contains("scripts/bad.js:4"), error.getMessage());
        assertTrue(error.getMessage().contains("scripts/worse.js:1"), error.getMessage());
    }

    @Test
    void aMissingAppDirectoryIsAnError() {
        TaskpoolException error = assertThrows(TaskpoolException.class, () -> Harness.open(dir.resolve("nowhere")));
        assertTrue(error.getMessage().contains("does not exist"), error.getMessage());
    }
}
