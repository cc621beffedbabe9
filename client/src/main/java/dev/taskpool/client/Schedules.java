package dev.taskpool.client;

import dev.taskpool.core.schedule.ScheduleInfo;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.core.schedule.UnknownScheduleException;
import java.util.List;
import java.util.Optional;

/**
 * A Java application's schedules ({@link TaskpoolClient#schedules()}): create or change one,
 * remove it, list them, stop, start and trigger one. The schedules live in Redis; the workers
 * (any of them, whatever app they run) fire them. Built with {@link ScheduleSpec#builder(String)}:
 * <pre>{@code
 * client.schedules().put(ScheduleSpec.builder("nightly-report").cron("0 3 * * *").timezone("Europe/Paris")
 *         .task("report.build").args("daily").build());
 * }</pre>
 */
public final class Schedules {
    private static final String BY = "client";

    private final ScheduleOperations operations;

    Schedules(ScheduleOperations operations) {
        this.operations = operations;
    }

    /** Creates the schedule, or changes it (a changed cron or zone recomputes its next fire time; stopped stays stopped). */
    public void put(ScheduleSpec spec) {
        operations.put(spec, BY);
    }

    /** Removes the schedule and its state; false when there was none. */
    public boolean remove(String id) {
        return operations.remove(id);
    }

    /** Every schedule Redis knows (from apps' files and from clients), by id. */
    public List<ScheduleInfo> list() {
        return operations.list();
    }

    public Optional<ScheduleInfo> get(String id) {
        return operations.get(id);
    }

    /** Stops it on every worker. @throws UnknownScheduleException when Redis has no such schedule */
    public void stop(String id) {
        operations.stop(id, BY);
    }

    /** Resumes it from its first slot after now. @throws UnknownScheduleException when Redis has no such schedule */
    public void start(String id) {
        operations.start(id, BY);
    }

    /** One extra firing now (within about a second). @throws UnknownScheduleException when Redis has no such schedule */
    public void trigger(String id) {
        operations.trigger(id, BY);
    }
}
