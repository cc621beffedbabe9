package dev.taskpool.example.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The whole example on a real Redis, with the worker in the application context: an order posted
 * to the endpoint becomes a task, the annotated bean processes it, and its typed receipt is read
 * back through the endpoint and through the client.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ShopApplicationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @Autowired
    TaskpoolClient taskpool;

    @DynamicPropertySource
    static void redis(DynamicPropertyRegistry properties) {
        properties.add("taskpool.redis-url", TestRedis::uri);
    }

    @BeforeAll
    static void eraseEarlierReceipts() {
        try (TaskpoolClient client = TaskpoolClient.connect(TestRedis.uri())) {
            client.operations().erase(ReceiptProcessor.KIND);
        }
    }

    @Test
    void anOrderPostedToTheEndpointIsProcessedByTheAnnotatedBeanAndItsReceiptReadBack() throws Exception {
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(uri("/orders"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"customer": "ada", "lines": [{"item": "pen", "quantity": 3, "unitCents": 150},
                                                      {"item": "ink", "quantity": 1, "unitCents": 400}]}
                        """)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        long id = JSON.readTree(created.body()).get("id").asLong();

        AtomicReference<JsonNode> read = new AtomicReference<>();
        Wait.until("the receipt task of order " + id + " to succeed", Duration.ofSeconds(60), () -> {
            read.set(get("/orders/" + id));
            return "SUCCESS".equals(read.get().get("status").asText());
        });
        JsonNode receipt = read.get().get("receipt");
        assertEquals("ada", receipt.get("customer").asText());
        assertEquals(850, receipt.get("totalCents").asLong());

        Receipt typed = taskpool.await(ReceiptProcessor.KIND, id, Duration.ofSeconds(5), Receipt.class);
        assertEquals(new Receipt("ada", 850, 2, typed.issuedAt()), typed, "the typed response read back");
        assertTrue(typed.issuedAt() != null);
    }

    @Test
    void anOrderWithoutLinesFailsItsTaskWithTheProcessorsMessage() throws Exception {
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(uri("/orders"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"customer\": \"bob\", \"lines\": []}")).build(),
                HttpResponse.BodyHandlers.ofString());
        long id = JSON.readTree(created.body()).get("id").asLong();
        AtomicReference<JsonNode> read = new AtomicReference<>();
        Wait.until("the task of order " + id + " to fail after its 3 runs", Duration.ofSeconds(60), () -> {
            read.set(get("/orders/" + id));
            return "FAILURE".equals(read.get().get("status").asText());
        });
        assertEquals("order of bob has no lines", read.get().get("error").asText());
    }

    @Test
    void theHealthEndpointSaysUpWhileRedisAnswers() throws Exception {
        JsonNode health = get("/actuator/health");
        assertEquals("UP", health.get("status").asText(), health.toString());
    }

    private JsonNode get(String path) {
        try {
            return JSON.readTree(http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString()).body());
        } catch (Exception e) {
            throw new IllegalStateException("GET " + path + ": " + e, e);
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
