package dev.taskpool.worker.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.definition.DefinitionException;
import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.spring.TaskSchedule;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reading annotated methods: plain logic, no Redis. */
class AnnotatedTasksTest {
    static class Bad {
        @TaskProcessor(value = "bad.nums", workerNums = 0, timeoutSeconds = 0)
        public void nums() {
        }

        @TaskProcessor("not a valid id")
        public void id() {
        }

        @TaskSchedule(cron = "* * * * *")
        public void scheduleAlone() {
        }

        @TaskProcessor("bad.cron")
        @TaskSchedule(cron = "every minute")
        public void cron() {
        }

        @TaskProcessor("bad.contexts")
        public void contexts(TaskContext a, TaskContext b) {
        }

        @TaskProcessor(value = "bad.partitions", size = 2, partitions = 3)
        public void partitions() {
        }
    }

    @Test
    void everyBadAnnotationIsNamedWithItsMethodAndAttribute() {
        DefinitionException error = assertThrows(DefinitionException.class, () -> AnnotatedTasks.scan(new Bad()));
        String text = String.join("\n", error.problems());
        assertTrue(text.contains("@TaskProcessor(\"bad.nums\") on Bad.nums(): workerNums must be at least 1, got 0"), text);
        assertTrue(text.contains("Bad.nums(): timeoutSeconds must be at least 1, got 0"), text);
        assertTrue(text.contains("@TaskProcessor(\"not a valid id\") on Bad.id(): the task id is not valid"), text);
        assertTrue(text.contains("@TaskSchedule on Bad.scheduleAlone(): the method needs @TaskProcessor too"), text);
        assertTrue(text.contains("@TaskSchedule on Bad.cron()") && text.contains("\"schedule\""), text);
        assertTrue(text.contains("Bad.contexts(TaskContext, TaskContext): at most one TaskContext parameter, got 2"), text);
        assertTrue(text.contains("partitions 3 is more than size 2"), text);
        assertEquals(7, error.problems().size(), text);
    }

    static class Mail {
        @TaskProcessor("mail.send")
        public String send(String to) {
            return to;
        }
    }

    static class OtherMail {
        @TaskProcessor("mail.send")
        public String send(String to) {
            return to;
        }
    }

    /** A subclass as a proxy makes it: an override without the annotation. */
    static class Mail$$Proxy extends Mail {
        @Override
        public String send(String to) {
            return "proxied " + super.send(to);
        }
    }

    @Test
    void aKindClaimedTwiceIsRefusedNamingBothMethods() {
        JavaTasks tasks = new JavaTasks();
        AnnotatedTasks.scan(new Mail()).forEach(tasks::add);
        DefinitionException error = assertThrows(DefinitionException.class,
                () -> AnnotatedTasks.scan(new OtherMail()).forEach(tasks::add));
        assertTrue(error.getMessage().contains("Mail.send(String) and OtherMail.send(String)"), error.getMessage());
    }

    @Test
    void aProxysOverrideIsCalledForItsAnnotatedSuperclassMethod() throws Exception {
        List<JavaTask> tasks = AnnotatedTasks.scan(new Mail$$Proxy());
        assertEquals(1, tasks.size());
        assertEquals("proxied ada", tasks.getFirst().processor().process(List.of("ada"), null));
    }

    @Test
    void aKindWithNeitherAnAppDefinitionNorItsOwnIsRefused() {
        JavaTasks tasks = new JavaTasks().add(JavaTask.of("reports.daily", (args, context) -> null));
        DefinitionException error = assertThrows(DefinitionException.class, () -> tasks.join(List.of()));
        assertTrue(error.getMessage().contains("no definition of task reports.daily (tasks/reports/daily.yao)"),
                error.getMessage());
    }
}
