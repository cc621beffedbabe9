package dev.taskpool.core.connect;

import dev.taskpool.core.Durations;
import dev.taskpool.core.TaskpoolException;
import io.lettuce.core.RedisCommandExecutionException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one way taskpool waits for a Redis reply: for at most a bound, and turning every failure
 * (no answer, an ACL refusal, a full Redis, any other error reply) into a {@link TaskpoolException}
 * that names the Redis and says what was being done, so each caller words its errors the same way.
 */
public final class RedisCalls {
    private final RedisConnector redis;
    private final Duration timeout;
    private final boolean wordsFullRedis;

    /**
     * Calls whose OOM refusal stays Redis' own error reply, wrapped like any other (the stores: a
     * worker's log words a full Redis itself, and an add has its own {@link RedisFull} wording).
     *
     * A reply is waited for {@link RedisTimeouts#replyWait()}.
     */
    public RedisCalls(RedisConnector redis) {
        this(redis, false);
    }

    /**
     * @param wordsFullRedis whether an OOM refusal becomes a {@link RedisFull#refusal} (operators'
     *                       reads and actions), rather than Redis' own words
     */
    public RedisCalls(RedisConnector redis, boolean wordsFullRedis) {
        this.redis = redis;
        this.timeout = redis.timeouts().replyWait();
        this.wordsFullRedis = wordsFullRedis;
    }

    /** Waits for a Redis reply, turning failures into errors that say what was being done. */
    public <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskpoolException("interrupted while trying to " + what, e);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw failure(e, what);
        } catch (ExecutionException e) {
            throw failure(e.getCause(), what);
        }
    }

    /**
     * A Redis reply as {@link #await} bounds it, without waiting: it fails with the error
     * {@code await} would throw. For a caller that sends several commands (to several Cluster
     * masters, say) and then waits for them together, so that one node that does not answer holds
     * up none of the others.
     */
    public <T> CompletableFuture<T> bounded(CompletableFuture<T> future, String what) {
        return bounded(future, what, timeout);
    }

    /**
     * {@link #bounded(CompletableFuture, String)} with a wait of the caller's own: the heartbeat's,
     * which must end before the lease it extends could lapse ({@code RedisTimeouts}, worker
     * {@code Timeouts}).
     */
    public <T> CompletableFuture<T> bounded(CompletableFuture<T> future, String what, Duration wait) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        future.orTimeout(wait.toMillis(), TimeUnit.MILLISECONDS).whenComplete((value, error) -> {
            if (error == null) {
                answer.complete(value);
            } else {
                answer.completeExceptionally(failure(unwrap(error), what, wait));
            }
        });
        return answer;
    }

    /** The error a failed call to {@code what} is reported as. */
    public TaskpoolException failure(Throwable cause, String what) {
        return failure(cause, what, timeout);
    }

    private TaskpoolException failure(Throwable cause, String what, Duration waited) {
        if (cause instanceof TaskpoolException known) {
            return known;
        }
        if (cause instanceof TimeoutException) {
            return new TaskpoolException("Redis at " + redis.describe() + " did not answer within "
                    + Durations.text(waited) + " while trying to " + what, cause);
        }
        if (wordsFullRedis && RedisFull.refused(cause)) {
            return RedisFull.refusal(redis.describe(), "the request to " + what, cause);
        }
        return AclRefusal.explain(cause, redis.user(), what).map(line -> new TaskpoolException(line, cause))
                .orElseGet(() -> new TaskpoolException("Redis at " + redis.describe() + " failed to " + what + ": "
                        + RedisConnector.rootMessage(cause), cause));
    }

    /** The error inside a {@link CompletionException}, which a future's callbacks receive wrapped. */
    public static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    /** Whether Redis answered with an error reply of this code (e.g. WRONGTYPE, OOM) somewhere in the causes. */
    public static boolean repliedWith(Throwable error, String code) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof RedisCommandExecutionException && cause.getMessage() != null
                    && cause.getMessage().startsWith(code)) {
                return true;
            }
        }
        return false;
    }
}
