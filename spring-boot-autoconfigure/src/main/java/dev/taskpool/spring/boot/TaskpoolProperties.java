package dev.taskpool.spring.boot;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * The {@code taskpool.*} settings of a Spring Boot application. They validate themselves when
 * bound (this class is its own {@link Validator}), so that a bad value stops the application at
 * start with Boot's report naming the property, its value and what was expected.
 */
@ConfigurationProperties("taskpool")
public class TaskpoolProperties implements Validator {
    /** The schemes a taskpool Redis URL may have (those Lettuce reads, as {@code taskpool worker --redis}). */
    private static final Set<String> SCHEMES = Set.of("redis", "rediss", "redis-socket", "redis-sentinel", "rediss-sentinel");

    /**
     * The Redis to use: redis://host:port, rediss://user:password@host:port/db (TLS, ACL user),
     * redis://h1:p1,h2:p2 (Cluster seed nodes) or redis-sentinel://h1:p1,h2:p2#master.
     */
    private String redisUrl = "redis://127.0.0.1:6379";

    /** How long one Redis command may take before it fails. */
    private Duration commandTimeout = Duration.ofSeconds(10);

    /**
     * How long an add whose reply does not come keeps sending the same request again before it
     * fails with AddOutcomeUnknownException. Default: three command timeouts.
     */
    private Duration addDeadline;

    /**
     * An app directory (tasks/*.yao, scripts/*.js) whose script-defined kinds the worker also runs,
     * and whose definitions take precedence over the attributes of @TaskProcessor methods. Unset:
     * only the kinds of @TaskProcessor beans.
     */
    private Path appDirectory;

    private final Tls tls = new Tls();

    private final Worker worker = new Worker();

    private final Transaction transaction = new Transaction();

    public String getRedisUrl() {
        return redisUrl;
    }

    public void setRedisUrl(String redisUrl) {
        this.redisUrl = redisUrl;
    }

    public Duration getCommandTimeout() {
        return commandTimeout;
    }

    public void setCommandTimeout(Duration commandTimeout) {
        this.commandTimeout = commandTimeout;
    }

    public Duration getAddDeadline() {
        return addDeadline;
    }

    public void setAddDeadline(Duration addDeadline) {
        this.addDeadline = addDeadline;
    }

    /** The add deadline given, else the client's default of three command timeouts. */
    public Duration effectiveAddDeadline() {
        return addDeadline != null ? addDeadline : commandTimeout.multipliedBy(3);
    }

    public Path getAppDirectory() {
        return appDirectory;
    }

    public void setAppDirectory(Path appDirectory) {
        this.appDirectory = appDirectory;
    }

    public Tls getTls() {
        return tls;
    }

    public Worker getWorker() {
        return worker;
    }

    public Transaction getTransaction() {
        return transaction;
    }

    /** The CA and client certificate of a rediss:// Redis (PEM files). */
    public static class Tls {
        /** The CA to trust for a rediss:// Redis whose certificate no public CA signed (a PEM file). Unset: the JVM's trusted CAs. */
        private Path ca;

        /** The client certificate chain for mutual TLS (a PEM file); needs taskpool.tls.key. */
        private Path cert;

        /** The unencrypted PKCS#8 key of taskpool.tls.cert (a PEM file). */
        private Path key;

        public Path getCa() {
            return ca;
        }

        public void setCa(Path ca) {
            this.ca = ca;
        }

        public Path getCert() {
            return cert;
        }

        public void setCert(Path cert) {
            this.cert = cert;
        }

        public Path getKey() {
            return key;
        }

        public void setKey(Path key) {
            this.key = key;
        }
    }

    /** The worker that runs tasks inside this application. */
    public static class Worker {
        /**
         * Whether this application runs a worker (started with the context, drained when it stops).
         * Off by default: an application that only adds and reads tasks needs none.
         */
        private boolean enabled = false;

        /** The kinds this worker serves. Empty: every kind it knows (from @TaskProcessor beans and the app directory). */
        private List<String> tasks = new ArrayList<>();

        /**
         * Concurrent runs of a kind in this worker, overriding the kind's worker_nums. Kinds with a
         * dot go in brackets: taskpool.worker.worker-nums[mail.send]=4.
         */
        private Map<String, Integer> workerNums = new LinkedHashMap<>();

        /**
         * How long a stopping worker lets running tasks finish before it hands them back to the
         * queue. Keep it below spring.lifecycle.timeout-per-shutdown-phase (30s by default), less
         * the few seconds a processor that ignores its interrupt is waited for.
         */
        private Duration shutdownGrace = Duration.ofSeconds(10);

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public List<String> getTasks() {
            return tasks;
        }

        public void setTasks(List<String> tasks) {
            this.tasks = tasks;
        }

        public Map<String, Integer> getWorkerNums() {
            return workerNums;
        }

        public void setWorkerNums(Map<String, Integer> workerNums) {
            this.workerNums = workerNums;
        }

        public Duration getShutdownGrace() {
            return shutdownGrace;
        }

        public void setShutdownGrace(Duration shutdownGrace) {
            this.shutdownGrace = shutdownGrace;
        }
    }

    /** Adds made through TransactionalTaskAdds inside a Spring-managed transaction. */
    public static class Transaction {
        /**
         * Whether an add made inside a transaction waits for its commit (and is dropped on
         * rollback). False: it is sent at once, even inside a transaction.
         */
        private boolean holdAdds = true;

        public boolean isHoldAdds() {
            return holdAdds;
        }

        public void setHoldAdds(boolean holdAdds) {
            this.holdAdds = holdAdds;
        }
    }

    // ---- Validation, when bound ----

    @Override
    public boolean supports(Class<?> type) {
        return TaskpoolProperties.class.isAssignableFrom(type);
    }

    /**
     * Every message starts with the property's name as written in a properties file: Boot names
     * the origin of a top-level field's value, but not of a nested one's ({@code worker.shutdownGrace}).
     */
    @Override
    public void validate(Object target, Errors errors) {
        TaskpoolProperties properties = (TaskpoolProperties) target;
        properties.validateRedisUrl(errors);
        positive(errors, "commandTimeout", "taskpool.command-timeout", properties.commandTimeout);
        if (properties.addDeadline != null) {
            positive(errors, "addDeadline", "taskpool.add-deadline", properties.addDeadline);
        }
        if (properties.appDirectory != null && !Files.isDirectory(properties.appDirectory)) {
            reject(errors, "appDirectory", "taskpool.app-directory", "is not a directory ("
                    + properties.appDirectory.toAbsolutePath() + ")");
        }
        properties.validateTls(errors);
        properties.validateWorker(errors);
    }

    private void validateRedisUrl(Errors errors) {
        if (redisUrl == null || redisUrl.isBlank()) {
            reject(errors, "redisUrl", "taskpool.redis-url", "must name a Redis, e.g. redis://127.0.0.1:6379");
            return;
        }
        int schemeEnd = redisUrl.indexOf("://");
        String scheme = schemeEnd < 0 ? "" : redisUrl.substring(0, schemeEnd);
        if (!SCHEMES.contains(scheme)) {
            reject(errors, "redisUrl", "taskpool.redis-url", "must start with redis://, rediss://, redis-sentinel:// or"
                    + " rediss-sentinel:// (e.g. redis://127.0.0.1:6379)");
        }
    }

    private void validateTls(Errors errors) {
        readableFile(errors, "tls.ca", "taskpool.tls.ca", tls.ca);
        readableFile(errors, "tls.cert", "taskpool.tls.cert", tls.cert);
        readableFile(errors, "tls.key", "taskpool.tls.key", tls.key);
        if (tls.cert != null && tls.key == null) {
            reject(errors, "tls.key", "taskpool.tls.key", "must be given with taskpool.tls.cert (the client certificate's key)");
        }
        if (tls.key != null && tls.cert == null) {
            reject(errors, "tls.cert", "taskpool.tls.cert", "must be given with taskpool.tls.key (the key's certificate)");
        }
    }

    private void validateWorker(Errors errors) {
        for (String kind : worker.tasks) {
            if (kind == null || kind.isBlank()) {
                reject(errors, "worker.tasks", "taskpool.worker.tasks", "must name kinds, and one of them is empty");
            }
        }
        worker.workerNums.forEach((kind, count) -> {
            if (count == null || count < 1) {
                reject(errors, "worker.workerNums", "taskpool.worker.worker-nums",
                        "must give each kind at least 1 concurrent run, and gives " + kind + " " + count);
            }
        });
        if (worker.shutdownGrace == null || worker.shutdownGrace.isNegative()) {
            reject(errors, "worker.shutdownGrace", "taskpool.worker.shutdown-grace", "must not be negative");
        }
    }

    private static void positive(Errors errors, String field, String property, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            reject(errors, field, property, "must be longer than 0");
        }
    }

    private static void readableFile(Errors errors, String field, String property, Path file) {
        if (file != null && !(Files.isRegularFile(file) && Files.isReadable(file))) {
            reject(errors, field, property, "is not a readable file (" + file.toAbsolutePath() + ")");
        }
    }

    private static void reject(Errors errors, String field, String property, String problem) {
        errors.rejectValue(field, "invalid", property + " " + problem);
    }
}
