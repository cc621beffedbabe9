package dev.taskpool.worker.java;

/**
 * A checked exception (or an error) thrown by a Java processor, carried out of the run as the
 * failure the task records: its message is the thrown one's (its class name when it has none).
 */
public final class JavaProcessorException extends RuntimeException {
    JavaProcessorException(Throwable thrown) {
        super(thrown.getMessage() == null ? thrown.getClass().getName() : thrown.getMessage(), thrown);
    }

    /** {@code thrown} as the run's failure: runtime exceptions as they are, the rest wrapped. */
    static RuntimeException of(Throwable thrown) {
        if (thrown instanceof RuntimeException runtime) {
            return runtime;
        }
        if (thrown instanceof VirtualMachineError fatal && !(thrown instanceof StackOverflowError)) {
            throw fatal;   // out of memory and the like are the process's trouble, not a task's failure
        }
        return new JavaProcessorException(thrown);
    }
}
