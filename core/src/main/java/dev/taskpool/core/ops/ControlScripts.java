package dev.taskpool.core.ops;

import dev.taskpool.core.redis.Keys;
import dev.taskpool.core.redis.ScriptRunner;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Runs the control scripts and turns their refusals into {@link ControlException}s. */
final class ControlScripts {
    interface Awaiter {
        <T> T await(CompletableFuture<T> future, String what);
    }

    private final ScriptRunner scripts;
    private final Awaiter awaiter;

    ControlScripts(ScriptRunner scripts, Awaiter awaiter) {
        this.scripts = scripts;
        this.awaiter = awaiter;
    }

    void retry(Keys keys, long id, String by, long now) {
        throw new UnsupportedOperationException("retry is not implemented yet");
    }

    int retryFailed(Keys keys, String by, long now) {
        throw new UnsupportedOperationException("retryFailed is not implemented yet");
    }

    void cancel(Keys keys, long id, String by, long now) {
        throw new UnsupportedOperationException("cancel is not implemented yet");
    }

    void pause(Keys keys, String by, long now) {
        throw new UnsupportedOperationException("pause is not implemented yet");
    }

    void resume(Keys keys, String by, long now) {
        throw new UnsupportedOperationException("resume is not implemented yet");
    }

    void delete(Keys keys, long id, long now) {
        throw new UnsupportedOperationException("delete is not implemented yet");
    }
}
