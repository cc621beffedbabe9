package dev.taskpool.core.lua;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.connect.RedisConnector;

/**
 * How the scripts publish their events; passed to every script that publishes, with the kind's
 * events channel ({@link Keys#kindEvents()}), and read by {@code _events.lua}.
 *
 * <p>A publish that no subscriber would receive reaches no one, yet costs Redis a command inside
 * the script (three per task: added, started, the end). So the hot-path scripts ask first and
 * publish only what someone would receive:
 * <ul>
 * <li>{@code heard}: a standalone or Sentinel-managed Redis, where every subscriber of a task's
 * channel is on the server the scripts run on. Classic PUBLISH; they ask it ({@code PUBSUB NUMPAT},
 * {@code PUBSUB NUMSUB}): an awaited or watched task gets every event, a pattern subscription
 * anywhere (a dashboard, {@code taskpool watch}) gets all of them.</li>
 * <li>{@code sharded}: a Cluster. Classic PUBLISH there goes over the cluster bus to every node,
 * replicas included, which caps a Cluster's event rate near one node's and makes idle masters
 * work; so every event and control message goes out with sharded pub/sub ({@code SPUBLISH}),
 * which stays on the shard of the kind's slot, on the task's channel and, for task events, the
 * kind's events channel (sharded pub/sub has no patterns). The scripts ask the master they run
 * on ({@code PUBSUB SHARDNUMSUB}), where taskpool's subscribers are (Lettuce sends SSUBSCRIBE to
 * the master of the channel's slot), and publish on the channels that have a subscriber.</li>
 * <li>{@code all} and {@code sharded-all}: {@code TASKPOOL_EVENTS=all}, every event without
 * asking (PUBLISH, SPUBLISH): for subscribers on a replica, which the master cannot count.</li>
 * </ul>
 * Outside a Cluster the scripts other than enqueue, finish and a schedule's firing (progress,
 * retry, recover, operator actions) publish every event, as they always did; in a Cluster they too
 * publish only what is heard.
 */
public final class EventMode {
    private EventMode() {
    }

    /** The scripts' argument for {@code redis}: {@code "heard"}, {@code "all"}, {@code "sharded"} or {@code "sharded-all"}. */
    public static String of(RedisConnector redis) {
        return of(redis.isCluster(), allByEnvironment());
    }

    static String of(boolean cluster, boolean all) {
        if (cluster) {
            return all ? "sharded-all" : "sharded";
        }
        return all ? "all" : "heard";
    }

    /** Whether {@code mode} is a Cluster's, whose events go out with SPUBLISH. */
    public static boolean isSharded(String mode) {
        return mode.startsWith("sharded");
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
