package dev.taskpool.core.add;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.redis.AddRequest;
import dev.taskpool.core.redis.NewTask;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * How {@link AddGroups} hands over from one call to the next, with a sender that stands in for the
 * connection (plain logic: what is sent, and that every add gets an answer, is what is checked).
 */
class AddGroupsHandOverTest {
    private static final String TASK = "handover";

    /** Records each call; holds the first one open, refuses every later one at once. */
    private static final class Refusing implements AddGroups.Sender {
        final List<List<String>> calls = new ArrayList<>();
        final CompletableFuture<List<Object>> first = new CompletableFuture<>();

        @Override
        public AddGroups.Sent send(String task, List<AddGroups.Waiting> adds) {
            calls.add(adds.stream().map(add -> add.request().requestId()).toList());
            CompletableFuture<List<Object>> reply = calls.size() == 1 ? first
                    : CompletableFuture.failedFuture(new IllegalStateException("the connection is closed"));
            return new AddGroups.Sent(null, reply);
        }
    }

    private static AddRequest request(String id, String args) {
        return new AddRequest(TASK, id, List.of(new NewTask(null, args)), Long.MAX_VALUE);
    }

    @Test
    void aLongQueueMeetingRefusalsAtOnceIsAnsweredWithoutExhaustingTheStack() throws Exception {
        Refusing sender = new Refusing();
        AddGroups groups = new AddGroups(sender, Duration.ofMinutes(1));
        CompletableFuture<AddGroups.Answer> first = groups.submit(request("r0", "[0]"), 0);
        // Arguments of over half the byte budget each: one add per call, so 20,000 calls follow.
        String big = "[\"" + "x".repeat((int) (AddGroups.MOST_BYTES / 2 + 1)) + "\"]";
        List<CompletableFuture<AddGroups.Answer>> queued = new ArrayList<>();
        for (int i = 1; i <= 20_000; i++) {
            queued.add(groups.submit(request("r" + i, big), 0));
        }
        sender.first.completeExceptionally(new IllegalStateException("the connection is closed"));
        assertInstanceOf(IllegalStateException.class, cause(first));
        for (CompletableFuture<AddGroups.Answer> add : queued) {
            assertInstanceOf(IllegalStateException.class, cause(add), "every queued add is answered");
        }
        assertEquals(20_001, sender.calls.size());
        CompletableFuture<AddGroups.Answer> later = groups.submit(request("later", "[1]"), 0);
        assertInstanceOf(IllegalStateException.class, cause(later), "the kind still takes adds afterwards");
    }

    @Test
    void twoAddsWithOneRequestIdNeverShareACall() throws Exception {
        Refusing sender = new Refusing();
        AddGroups groups = new AddGroups(sender, Duration.ofMinutes(1));
        groups.submit(request("first", "[0]"), 0);
        CompletableFuture<AddGroups.Answer> retry = groups.submit(request("same", "[1]"), 0);
        CompletableFuture<AddGroups.Answer> again = groups.submit(request("same", "[1]"), 0);
        CompletableFuture<AddGroups.Answer> other = groups.submit(request("other", "[2]"), 0);
        sender.first.completeExceptionally(new IllegalStateException("the connection is closed"));
        cause(retry);
        cause(again);
        cause(other);
        assertEquals(List.of(List.of("first"), List.of("same", "other"), List.of("same")), sender.calls);
    }

    @Test
    void anAddThatWaitedPastTheLimitFailsSoItsOwnLoopSendsItAlone() throws Exception {
        Refusing sender = new Refusing();
        AddGroups groups = new AddGroups(sender, Duration.ofMillis(50));
        groups.submit(request("first", "[0]"), 0);
        CompletableFuture<AddGroups.Answer> waiting = groups.submit(request("behind", "[1]"), 0);
        Thread.sleep(120);
        sender.first.completeExceptionally(new IllegalStateException("the connection is closed"));
        Throwable error = cause(waiting);
        assertInstanceOf(TaskpoolException.class, error);
        assertTrue(error.getMessage().contains("waited over 50 ms behind earlier adds"), error.getMessage());
        assertEquals(1, sender.calls.size(), "the late add was not sent in a shared call");
    }

    /** What {@code add} failed with; fails the test when it is not answered within 60 s or succeeded. */
    private static Throwable cause(CompletableFuture<AddGroups.Answer> add) throws InterruptedException {
        try {
            add.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("the add was not answered within 60 s", e);
        }
        throw new AssertionError("the add succeeded; expected it to fail");
    }
}
