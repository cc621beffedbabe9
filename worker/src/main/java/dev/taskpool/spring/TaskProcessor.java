package dev.taskpool.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a method the processor of a kind of task: {@code @TaskProcessor("mail.send")}.
 *
 * <ul>
 *   <li>Its parameters are bound from the task's arguments by position, converted by Jackson (a
 *       record, a {@code List<Item>}, an {@code Instant} from its ISO-8601 text...). One parameter of
 *       type {@link dev.taskpool.worker.java.TaskContext}, anywhere in the list, takes no argument:
 *       it gives the task's id, the run's number and progress. A missing argument binds
 *       {@code null} (refused for a primitive parameter); arguments beyond the parameters fail the run.</li>
 *   <li>What it returns is the task's response (converted to plain JSON values by Jackson);
 *       {@code void} gives none.</li>
 *   <li>An exception fails the run, as a script's {@code throw} does: the task runs again after
 *       {@code attempt_after} while it has runs left. A run past its {@code timeout} is
 *       interrupted: a processor that waits or sleeps must let {@link InterruptedException} end it.</li>
 * </ul>
 *
 * <p>The kind's definition is the app directory's {@code tasks/<id>.yao} when there is one (its
 * {@code process} is then replaced by this method); else it is made from the attributes below,
 * whose defaults are those of the documentation's "Processors in Java" table.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface TaskProcessor {
    /** The kind's id, e.g. {@code mail.send}: dot-separated words of letters, digits, '_' and '-'. */
    String value();

    /** The definition's {@code name}; default: the kind's id. */
    String name() default "";

    /** Concurrent runs of this kind per worker process ({@code worker_nums}). */
    int workerNums() default 1;

    /** Retries after the first failed run ({@code attempts}: 3 means at most 4 runs). */
    int attempts() default 3;

    /** Milliseconds between runs ({@code attempt_after}). */
    long attemptAfterMillis() default 1000;

    /** The longest one run may take, in seconds ({@code timeout}). */
    long timeoutSeconds() default 60;

    /** The most tasks that may wait ({@code size}); 0: no bound. */
    int size() default 0;

    /** How long a finished task stays readable, in seconds ({@code keep}). */
    long keepSeconds() default 86_400;

    /** How many hash tags the kind is spread over ({@code partitions}, 1 to 100). */
    int partitions() default 1;
}
