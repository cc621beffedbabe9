package dev.taskpool.dashboard;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.schedule.ScheduleInfo;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.schedule.UnknownScheduleException;
import java.util.List;

/**
 * The cron schedules' part of the JSON API ({@link ApiHandler} hands it the paths under
 * {@code /api/schedules}), through {@link ScheduleOperations}: the state lives in Redis, so an
 * action holds for every worker.
 *
 * <pre>
 * GET  /api/schedules                        every schedule known to Redis, by id, and the server's time
 * GET  /api/schedules/ID                     one schedule
 * POST /api/schedules/ID/stop | start | trigger
 * </pre>
 */
final class ScheduleApi {
    private final ScheduleOperations schedules;

    ScheduleApi(ScheduleOperations schedules) {
        this.schedules = schedules;
    }

    /** A read; {@code path} starts with "schedules". */
    Object read(List<String> path) {
        if (path.size() == 1) {
            ObjectNode body = Json.NODES.objectNode();
            ArrayNode rows = body.putArray("schedules");
            schedules.list().forEach(info -> rows.add(info.toJson()));
            body.put("now", System.currentTimeMillis());
            return body;
        }
        if (path.size() == 2) {
            return find(path.get(1)).toJson();
        }
        throw new HttpIo.NotFound("no such API path: /api/" + String.join("/", path) + " (see /api/schedules)");
    }

    /** An action; {@code path} starts with "schedules". */
    Object act(List<String> path, String by) {
        if (path.size() != 3) {
            throw new HttpIo.NotFound("no such action: POST /api/" + String.join("/", path)
                    + " (expected /api/schedules/ID/stop, start or trigger)");
        }
        String id = path.get(1);
        switch (path.get(2)) {
            case "stop" -> schedules.stop(id, by);
            case "start" -> schedules.start(id, by);
            case "trigger" -> schedules.trigger(id, by);
            default -> throw new HttpIo.NotFound("no action '" + path.get(2) + "' on a schedule (expected stop, start or trigger)");
        }
        ObjectNode done = Json.NODES.objectNode();
        done.put("done", path.get(2));
        done.put("schedule", id);
        // its state after the action (start sets the next fire time); absent only when removed meanwhile
        schedules.get(id).ifPresent(info -> done.set("state", info.toJson()));
        return done;
    }

    private ScheduleInfo find(String id) {
        return schedules.get(id).orElseThrow(() -> new UnknownScheduleException(id));
    }
}
