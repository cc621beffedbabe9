package dev.taskpool.core.ops;

/**
 * One kind's row of the {@link Overview}: its counts, or, when they cannot be read, why (e.g.
 * "taskpool:{mail}:waiting holds a string, expected a list"); exactly one of the two is set.
 */
public record KindOverview(String task, KindStats stats, String error) {
    static KindOverview read(KindStats stats) {
        return new KindOverview(stats.task(), stats, null);
    }

    static KindOverview broken(String task, String error) {
        return new KindOverview(task, null, error);
    }
}
