package dev.taskpool.worker.script;

import java.util.List;

/**
 * What scripts may call in the host ({@code Process}, {@code Progress}, {@code console}). The
 * runtime implements it; {@link ExportedHost} is the only host object a script can reach.
 */
public interface HostBridge {
    /** Runs a process and returns its result (a plain Java value). */
    Object process(String name, List<Object> args);

    /** Records progress; {@code args} is the argument list of {@code Progress(...)}. */
    void progress(List<Object> args);

    /** Writes a {@code console.*} line to the log. */
    void log(String level, String text);
}
