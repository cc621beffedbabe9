package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taskpool.core.json.Json;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A browser that opens the event stream and stops reading while tasks with large results finish:
 * the dashboard holds at most its byte budget for it and then drops its stream, while a browser
 * that reads keeps getting every event.
 */
class StalledEventStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int RESULT_CHARACTERS = 256 * 1024;
    private static final int TASKS = 40;

    @TempDir
    Path dir;

    @Test
    void aBrowserThatStopsReadingIsDroppedWithinItsBudgetWhileAReadingBrowserGetsEveryEvent() throws Exception {
        String kind = TestRedis.uniqueTaskId("dashstall");
        TestApp app = TestApp.in(dir.resolve("app")).task(kind, 4, 0, 0, 60, 1000, "scripts.big.Work", "")
                .script("big", "function Work(n) { return 'x'.repeat(" + RESULT_CHARACTERS + "); }");
        try (Harness harness = Harness.open(app.dir());
             DashboardServer dashboard = new DashboardServer(harness.redis,
                     new TaskOperations(harness.redis, Clock.systemUTC()), DashboardSettings.loopback(0))
                     .dropStreamsStalledFor(Duration.ofSeconds(3));
             Socket stalled = new Socket()) {
            // A browser that never reads: a small receive window, so that the server's writes block soon.
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", dashboard.port()));
            stalled.getOutputStream().write(("GET /events?task=" + kind + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            stalled.getOutputStream().flush();

            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            HttpResponse<Stream<String>> reading = HttpClient.newHttpClient().sendAsync(
                    HttpRequest.newBuilder(URI.create(dashboard.url() + "events?task=" + kind)).build(),
                    HttpResponse.BodyHandlers.ofLines()).get(30, TimeUnit.SECONDS);
            Thread reader = Thread.ofVirtual().start(() -> reading.body().forEach(lines::add));
            AtomicLong mostQueued = new AtomicLong();
            Thread sampler = Thread.ofVirtual().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    mostQueued.accumulateAndGet(dashboard.mostQueuedEventBytesOfOneBrowser(), Math::max);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                Wait.until("both browsers connected", WAIT, () -> dashboard.eventListeners() == 2);

                harness.startWorker();
                Set<Long> ids = new HashSet<>();
                for (int i = 0; i < TASKS; i++) {
                    ids.add(harness.add(kind, i));
                }
                for (long id : ids) {
                    assertEquals(TaskStatus.SUCCESS, harness.await(kind, id).status());
                }
                // The reading browser hears of every success, with the size of the response instead of the response.
                Set<Long> heard = new HashSet<>();
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (!heard.containsAll(ids)) {
                    String line = lines.poll(Math.max(deadline - System.nanoTime(), 1), TimeUnit.NANOSECONDS);
                    assertTrue(line != null, "the reading browser heard of " + heard.size() + " of " + TASKS + " successes");
                    if (!line.startsWith("data: ")) {
                        continue;
                    }
                    JsonNode event = Json.read(line.substring("data: ".length()), "event");
                    if (event.path("event").asText().equals("success")) {
                        assertFalse(event.has("response"), "a response is not streamed: " + line.length() + " characters");
                        assertEquals(RESULT_CHARACTERS + 2, event.path("responseBytes").asLong(), "its size is: " + event);
                        heard.add(event.path("id").asLong());
                    }
                }

                // More events flow (long errors, cut on the stream) until the stalled browser's socket is full
                // and the dashboard gives up on it.
                String error = "e".repeat(5000);
                String channel = Keys.of(kind).events(1);
                int published = 0;
                deadline = System.nanoTime() + WAIT.toNanos();
                while (dashboard.eventListeners() > 1 && System.nanoTime() < deadline) {
                    for (int i = 0; i < 200; i++) {
                        harness.redis.sync().publish(channel, "{\"event\":\"failure\",\"task\":\"" + kind
                                + "\",\"id\":1,\"status\":\"FAILURE\",\"error\":\"" + error + "\"}");
                    }
                    published += 200;
                    Thread.sleep(50);
                }
                Wait.until("the stalled browser's stream dropped (after " + published + " more events)", WAIT,
                        () -> dashboard.eventListeners() == 1);
                assertTrue(mostQueued.get() <= EventFanout.QUEUE_BYTE_BUDGET, "the dashboard held " + mostQueued.get()
                        + " bytes of events for one browser, over its budget of " + EventFanout.QUEUE_BYTE_BUDGET);

                // The stalled browser finds its connection closed once it reads again.
                stalled.setSoTimeout((int) WAIT.toMillis());
                InputStream in = stalled.getInputStream();
                byte[] buffer = new byte[64 * 1024];
                long read = 0;
                try {
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        read += n;
                    }
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("the stalled stream was not closed: " + read + " bytes read, then nothing for " + WAIT);
                } catch (SocketException reset) {
                    // closed with unread data on the server side: a reset is a close too
                }

                // The reading browser is still served.
                long after = harness.add(kind, "after");
                deadline = System.nanoTime() + WAIT.toNanos();
                boolean seen = false;
                while (!seen) {
                    String line = lines.poll(Math.max(deadline - System.nanoTime(), 1), TimeUnit.NANOSECONDS);
                    assertTrue(line != null, "the reading browser heard nothing of task " + after);
                    seen = line.startsWith("data: ") && line.contains("\"success\"") && line.contains("\"id\":" + after + ",");
                }
            } finally {
                sampler.interrupt();
                reader.interrupt();
                reading.body().close();
            }
        }
    }
}
