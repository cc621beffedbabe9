package dev.taskpool.core.schedule;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.lua.Keys;

/** A schedule id that is in no registry: never published by a worker nor created by a client, or removed. */
public final class UnknownScheduleException extends TaskpoolException {
    private final String id;

    public UnknownScheduleException(String id) {
        super("no schedule '" + id + "' in Redis (" + Keys.SCHEDULE_REGISTRY + "): a worker publishes"
                + " an app's schedules/*.sch.yao when it starts, a client creates one with schedules().put");
        this.id = id;
    }

    /** The id asked for. */
    public String id() {
        return id;
    }
}
