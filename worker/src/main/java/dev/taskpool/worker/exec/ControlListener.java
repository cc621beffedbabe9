package dev.taskpool.worker.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.connect.EventChannels;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.worker.runtime.AppRuntime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens to the control channels ({@code taskpool:{T}:control}) of the kinds this worker serves,
 * on one pub/sub connection (in a Cluster, shard channels: each on the master of its kind's slot), and stops a run an operator canceled. Pub/sub may drop a message
 * (in a reconnect): the cancel script also took the run's lease, so the heartbeat finds it lost
 * and stops the run then; either way the run records nothing. {@link EventChannels} subscribes
 * again after a reconnect.
 */
final class ControlListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlListener.class);

    private final Map<String, TaskConsumer> consumers;
    private EventChannels channels;

    ControlListener(List<TaskConsumer> consumers) {
        this.consumers = new ConcurrentHashMap<>(consumers.stream().collect(Collectors.toMap(c -> Keys.of(c.partition()).control(),
                Function.identity())));
    }

    /** Follows the control channel of a consumer added after the start (a partition its kind gained). */
    void follow(TaskConsumer consumer) {
        String channel = Keys.of(consumer.partition()).control();
        consumers.put(channel, consumer);
        if (channels != null) {
            try {
                channels.subscribe(channel, this::handle);
            } catch (RuntimeException e) {
                log.error("cannot subscribe to the control channel {} ({}); a canceled run stops only when the heartbeat"
                        + " finds its lease gone", channel, e.getMessage());
            }
        }
    }

    /**
     * Subscribes; returns once Redis confirmed it, or after the command timeout when Redis does not
     * answer (the subscription is then made as soon as it is back). When Redis refuses (an ACL without SUBSCRIBE),
     * the worker runs on and says what that costs.
     */
    void start(AppRuntime runtime) {
        channels = new EventChannels(runtime.redis());
        try {
            for (String channel : consumers.keySet()) {
                channels.subscribe(channel, this::handle);   // on the I/O thread: handle only signals the run
            }
        } catch (RuntimeException e) {
            log.error("cannot subscribe to the control channels {} ({}); a canceled run stops only when the heartbeat"
                    + " finds its lease gone", consumers.keySet(), e.getMessage());
        }
    }

    /** A {@code cancel} control message: the run holding {@code lease} of task {@code id} is to stop. */
    record Cancel(long id, String lease, String by) {
    }

    /** The cancel order in a control message; null for any other message (pause and resume act through Redis). */
    static Cancel parseCancel(String message) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(message);
        } catch (JsonProcessingException e) {
            return null;
        }
        if (node == null || !"cancel".equals(node.path("event").asText()) || !node.path("id").canConvertToLong()
                || !node.path("lease").isTextual()) {
            return null;
        }
        return new Cancel(node.path("id").asLong(), node.path("lease").asText(),
                node.path("by").isTextual() ? node.path("by").asText() : null);
    }

    void handle(String channel, String message) {
        TaskConsumer consumer = consumers.get(channel);
        Cancel cancel = consumer == null ? null : parseCancel(message);
        if (cancel != null && consumer.canceled(cancel.id(), cancel.lease())) {
            log.info("task {} #{}: canceled{}; stopping its run", consumer.definition().id(), cancel.id(),
                    cancel.by() == null ? "" : " by " + cancel.by());
        }
    }

    @Override
    public void close() {
        if (channels != null) {
            try {
                channels.close();
            } catch (RuntimeException e) {
                log.debug("closing the control subscription failed: {}", e.getMessage());
            }
        }
    }
}
