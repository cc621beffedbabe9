package dev.taskpool.client;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.add.AddStore;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The published definitions the client checks an add against (which scripts it would need),
 * kept for {@link #CACHE} so that adds do not read them each time.
 */
final class PublishedDefinitions {
    private static final Duration CACHE = Duration.ofSeconds(10);

    private record CachedDefinition(Map<String, String> fields, long readAt) {
    }

    private final AddStore store;
    private final Map<String, CachedDefinition> definitions = new ConcurrentHashMap<>();

    PublishedDefinitions(AddStore store) {
        this.store = store;
    }

    /**
     * The published definition, from the cache while it is fresh, else read without blocking; when
     * Redis cannot be read, the one read earlier (as {@link #read}).
     */
    CompletableFuture<Map<String, String>> readAsync(String task) {
        CachedDefinition cached = definitions.get(task);
        long now = System.nanoTime();
        if (cached != null && now - cached.readAt() < CACHE.toNanos()) {
            return CompletableFuture.completedFuture(cached.fields());
        }
        return store.publishedDefinitionAsync(task).handle((read, error) -> {
            if (error != null) {
                if (cached == null) {
                    throw error instanceof CompletionException completion ? completion
                            : new CompletionException(error);
                }
                return cached.fields();
            }
            Map<String, String> fields = read.orElseThrow(() -> AddStore.unknownTask(task));
            definitions.put(task, new CachedDefinition(fields, now));
            return fields;
        });
    }

    /** The published definition, from the cache while it is fresh; when Redis cannot be read, the one read earlier. */
    Map<String, String> read(String task) {
        CachedDefinition cached = definitions.get(task);
        long now = System.nanoTime();
        if (cached != null && now - cached.readAt() < CACHE.toNanos()) {
            return cached.fields();
        }
        Optional<Map<String, String>> read;
        try {
            read = store.publishedDefinition(task);
        } catch (TaskpoolException e) {
            if (cached == null) {
                throw e;
            }
            // Redis is unreachable: the definition read earlier is good enough to check the
            // handlers, and the add itself then settles its outcome (or reports it unknown).
            return cached.fields();
        }
        Map<String, String> fields = read.orElseThrow(() -> AddStore.unknownTask(task));
        definitions.put(task, new CachedDefinition(fields, now));
        return fields;
    }
}
