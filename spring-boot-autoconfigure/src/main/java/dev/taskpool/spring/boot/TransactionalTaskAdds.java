package dev.taskpool.spring.boot;

import dev.taskpool.client.TaskpoolClient;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.redis.AddResult;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Adds that wait for the application's transaction: inside a Spring-managed transaction (one with
 * transaction synchronization active, as {@code @Transactional} methods and {@code TransactionTemplate}
 * have) an add is held and sent once the transaction has committed, and dropped when it rolls back,
 * so that a task never runs against data that was rolled back, nor before the data it reads is
 * visible. Outside a transaction an add is sent at once.
 *
 * <p>This is not an outbox: the add is sent after the commit, so a crash (or a Redis that stays away
 * past the add deadline) between the commit and the add loses that add, with the data committed.
 * Where that matters, record the work in the database in the same transaction and add from there.
 *
 * <p>With {@code taskpool.transaction.hold-adds=false} every add is sent at once, inside a
 * transaction too. The futures complete on the client's I/O thread, as {@link TaskpoolClient#addWithAsync}'s.
 */
public class TransactionalTaskAdds {
    private final TaskpoolClient client;
    private final boolean holdAdds;

    public TransactionalTaskAdds(TaskpoolClient client, boolean holdAdds) {
        this.client = client;
        this.holdAdds = holdAdds;
    }

    /** Adds a task of {@code kind}, after the current transaction commits (at once outside one). */
    public CompletableFuture<AddResult> add(String kind, Object... args) {
        return addWith(kind, AddOptions.none(), args);
    }

    /**
     * As {@link #add}, with {@code options} (a delay, a unique key, a priority). The future completes
     * with the add's result once it was sent and answered; when the transaction rolls back, it is
     * cancelled with a {@link CancellationException} saying so, and nothing is added.
     */
    public CompletableFuture<AddResult> addWith(String kind, AddOptions options, Object... args) {
        List<Object> arguments = Arrays.asList(args.clone());   // (what the caller changes afterwards is not what it added)
        if (!holdAdds || !TransactionSynchronizationManager.isSynchronizationActive()) {
            return client.addWithAsync(kind, options, arguments);
        }
        CompletableFuture<AddResult> result = new CompletableFuture<>();
        TransactionSynchronizationManager.registerSynchronization(new HeldAdd(kind, options, arguments, result));
        return result;
    }

    /** Whether adds made inside a transaction wait for its commit ({@code taskpool.transaction.hold-adds}). */
    public boolean holdsAdds() {
        return holdAdds;
    }

    /** One add waiting for its transaction; adds held by one transaction are sent in the order made. */
    private final class HeldAdd implements TransactionSynchronization {
        private final String kind;
        private final AddOptions options;
        private final List<Object> arguments;
        private final CompletableFuture<AddResult> result;

        HeldAdd(String kind, AddOptions options, List<Object> arguments, CompletableFuture<AddResult> result) {
            this.kind = kind;
            this.options = options;
            this.arguments = arguments;
            this.result = result;
        }

        @Override
        public void afterCommit() {
            try {
                client.addWithAsync(kind, options, arguments).whenComplete((added, failure) -> {
                    if (failure != null) {
                        result.completeExceptionally(failure instanceof CompletionException wrapped && wrapped.getCause() != null
                                ? wrapped.getCause() : failure);
                    } else {
                        result.complete(added);
                    }
                });
            } catch (RuntimeException e) {
                // (a failure here would otherwise reach the code that committed, as if the commit had failed)
                result.completeExceptionally(e);
            }
        }

        @Override
        public void afterCompletion(int status) {
            if (status != STATUS_COMMITTED) {
                result.completeExceptionally(new CancellationException("the add of a " + kind + " task was dropped: its transaction "
                        + (status == STATUS_ROLLED_BACK ? "rolled back" : "ended in an unknown state")));
            }
        }
    }
}
