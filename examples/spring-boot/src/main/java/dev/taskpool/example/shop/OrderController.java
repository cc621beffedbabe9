package dev.taskpool.example.shop;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.redis.AddResult;
import java.net.URI;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** The shop's endpoints: adding an order adds a receipt task; reading it reads the task. */
@RestController
public class OrderController {
    private final TaskpoolClient taskpool;

    public OrderController(TaskpoolClient taskpool) {
        this.taskpool = taskpool;
    }

    @PostMapping("/orders")
    public ResponseEntity<Map<String, Object>> order(@RequestBody Order order) {
        AddResult added = taskpool.add(ReceiptProcessor.KIND, order);
        if (added.isQueueFull()) {
            return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body(Map.of("error", "the receipt queue is full"));
        }
        return ResponseEntity.created(URI.create("/orders/" + added.id())).body(Map.of("id", added.id()));
    }

    @GetMapping("/orders/{id}")
    public ResponseEntity<Map<String, Object>> read(@PathVariable long id) {
        return taskpool.get(ReceiptProcessor.KIND, id)
                .map(task -> ResponseEntity.ok(view(task)))
                .orElseGet(() -> ResponseEntity.notFound().build());
    }

    private static Map<String, Object> view(TaskInfo task) {
        return switch (task.status()) {
            case SUCCESS -> Map.of("status", "SUCCESS", "receipt", task.response(Receipt.class));
            case FAILURE -> Map.of("status", "FAILURE", "error", task.error());
            default -> Map.of("status", task.status().name(), "progress", task.current() + "/" + task.total());
        };
    }
}
