package dev.taskpool.core.lua;

import java.util.List;

/**
 * The codes taskpool's Lua scripts answer with, each meaning one thing in every script: the Java
 * copy of the table in {@code taskpool/lua/_codes.lua} (a unit test checks that both list the same
 * names and numbers). A script's reply is {@code {code, details...}}; the details each code carries
 * are named with it. Callers decode a reply here, then turn its meaning into their result or error.
 */
public enum ScriptReply {
    /** The change was written. */
    DONE(1, "the change was written"),
    /** The same command was applied before (re-sent after a reconnect); nothing more was written. */
    ALREADY_DONE(2, "the same command was applied before"),
    /** Enqueue: the queue cannot take the request's count (its {@code size} would be passed). */
    QUEUE_FULL(0, "the queue is full"),
    /** Enqueue: the task was never published. */
    UNKNOWN_TASK(-1, "the task was never published"),
    /** {@code {code, id}}: a task with this given id exists (or the call gives it twice). */
    ID_TAKEN(-2, "a task with this id exists"),
    /** The task does not exist (never added, expired, or its key is no hash). */
    TASK_MISSING(-3, "the task does not exist"),
    /** The run no longer holds the task's lease (recovered elsewhere, or canceled). */
    LEASE_LOST(-4, "the run no longer holds the lease"),
    /** {@code {code, status}}: the task's status does not allow this change. */
    WRONG_STATUS(-5, "the task's status does not allow this"),
    /** {@code {code, record}}: the task is paused already (record: who paused it, when). */
    ALREADY_PAUSED(-6, "the task is paused already"),
    /** The task is not paused. */
    NOT_PAUSED(-7, "the task is not paused"),
    /** {@code {code, key, holds, expected}}: a key holds something the script cannot work with. */
    WRONG_TYPE(-8, "a key holds something else"),
    /** {@code {code, id}}: the id counter's next id lands on an existing key. */
    NEXT_ID_TAKEN(-9, "the counter's next id is taken"),
    /** {@code {code, counter, n}}: n default ids would pass the last id, 2^53-1. */
    IDS_EXHAUSTED(-10, "the default ids are used up"),
    /** {@code {code, error}}: Redis refused a read or the first write (OOM, an ACL rule), as it said it. */
    REDIS_REFUSED(-11, "Redis refused a command");

    private final long code;
    private final String meaning;

    ScriptReply(long code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The number the scripts use. */
    public long code() {
        return code;
    }

    /** What the code means, in a few words. */
    public String meaning() {
        return meaning;
    }

    /** The meaning of {@code code}; a code no script answers with is a bug, told as such. */
    public static ScriptReply of(long code) {
        for (ScriptReply reply : values()) {
            if (reply.code == code) {
                return reply;
            }
        }
        throw new IllegalStateException("a script answered with code " + code + ", which no script uses");
    }

    /** The meaning of a reply {@code {code, details...}}. */
    public static ScriptReply of(List<Object> reply) {
        if (reply.isEmpty() || !(reply.getFirst() instanceof Long code)) {
            throw new IllegalStateException("a script answered " + reply + ", not {code, details...}");
        }
        return of(code);
    }

    /** True when the reply is this code (a reply whose first value is no code, such as a list of ids, is not). */
    public boolean is(List<Object> reply) {
        return !reply.isEmpty() && reply.getFirst() instanceof Long first && first == code;
    }
}
