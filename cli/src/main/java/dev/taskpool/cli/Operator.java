package dev.taskpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.schedule.ScheduleOperations;
import java.util.function.Consumer;
import java.util.function.Function;

/** What the operator commands share: a connection for one command, and JSON output. */
final class Operator {
    private Operator() {
    }

    /** Connects, runs {@code work} with the operations API, closes. */
    static <T> T withOperations(Options.RedisOption redis, Function<TaskOperations, T> work) {
        try (RedisConnector connector = redis.connect()) {
            return work.apply(new TaskOperations(connector));
        }
    }

    /** Connects, does {@code action} with the operations API (an action returns nothing), closes. */
    static void act(Options.RedisOption redis, Consumer<TaskOperations> action) {
        try (RedisConnector connector = redis.connect()) {
            action.accept(new TaskOperations(connector));
        }
    }

    /** Connects, runs {@code work} with the schedules' operations, closes. */
    static <T> T withSchedules(Options.RedisOption redis, Function<ScheduleOperations, T> work) {
        try (RedisConnector connector = redis.connect()) {
            return work.apply(new ScheduleOperations(connector));
        }
    }

    /** A record (or anything Jackson reads) as a JSON tree. */
    static JsonNode json(Object value) {
        return Json.MAPPER.valueToTree(value);
    }

    static void printJson(Object value) {
        System.out.println(RunCommand.format(value));
    }
}
