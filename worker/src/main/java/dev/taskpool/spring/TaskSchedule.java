package dev.taskpool.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Adds a task of the method's kind on a cron schedule: put it beside {@link TaskProcessor} on the
 * same method, e.g. {@code @TaskSchedule(cron = "0 0 3 * * *")}. It becomes one of the schedules
 * of {@code schedules/*.sch.yao} (fired once per due time by whichever worker claims it, across
 * all workers; listed and controlled by {@code taskpool schedules}), and the task it adds is run
 * as any other: queued, retried, timed out. The task has no arguments, so the method's
 * parameters, {@link dev.taskpool.worker.java.TaskContext} aside, bind {@code null}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface TaskSchedule {
    /** When to fire: five fields (minute first) or six (second first), as a schedule file's {@code cron}. */
    String cron();

    /** The schedule's id; default: the kind's id. */
    String id() default "";

    /** The zone the cron expression is read in (an IANA name such as {@code Europe/Paris}). */
    String timezone() default "UTC";

    /** What to do about due times missed while no worker ran: {@code skip}, {@code once} or {@code all}. */
    String missed() default "skip";
}
