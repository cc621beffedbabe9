package dev.taskpool.core.lua;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;

/**
 * How the hot-path scripts (enqueue, finish) publish their events; passed to them as an argument.
 *
 * <p>A PUBLISH that no subscriber and no pattern would receive reaches no one, yet costs Redis a
 * command inside the script (three per task: added, started, the end). On a standalone or
 * Sentinel-managed Redis every subscriber of a task's channel is on the server the scripts run
 * on, so they ask it ({@code PUBSUB NUMPAT}, {@code PUBSUB NUMSUB}) and publish only what someone
 * would receive: an awaited or watched task gets every event, a pattern subscription anywhere (a
 * dashboard, {@code taskpool watch}) gets all of them. In a Cluster classic PUBLISH reaches
 * subscribers on every node, which one node cannot count, so every event is published there.
 * {@code TASKPOOL_EVENTS=all} publishes every event on any Redis: for subscribers on a replica
 * (PUBLISH is replicated), which the master cannot count either.
 */
public final class EventMode {
    private EventMode() {
    }

    /** The scripts' argument for {@code redis}: {@code "heard"} or {@code "all"}. */
    public static String of(RedisConnector redis) {
        return redis.isCluster() || allByEnvironment() ? "all" : "heard";
    }

    /** Whether {@code TASKPOOL_EVENTS} asks for every event ({@code all}; the default is {@code heard}). */
    static boolean allByEnvironment() {
        return parse(System.getenv("TASKPOOL_EVENTS"));
    }

    static boolean parse(String value) {
        if (value == null || value.isBlank() || value.equalsIgnoreCase("heard")) {
            return false;
        }
        if (value.equalsIgnoreCase("all")) {
            return true;
        }
        throw new TaskpoolException("TASKPOOL_EVENTS must be heard (publish an event only when someone would receive it,"
                + " the default) or all (publish every event, for subscribers on replicas), got '" + value + "'");
    }
}
