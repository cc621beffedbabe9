package dev.taskpool.cli;

import dev.taskpool.core.connect.CommandLatencies;
import dev.taskpool.core.connect.RedisConnector;
import dev.taskpool.core.json.ValueLimits;
import dev.taskpool.core.redis.RedisTls;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Options several commands share; each has an environment variable for containers. Public for the
 * commands of other modules (the benchmark's {@code taskpool bench}).
 */
public final class Options {
    private Options() {
    }

    public static final class RedisOption {
        @Option(names = "--redis", paramLabel = "URL", defaultValue = "${env:TASKPOOL_REDIS_URL:-redis://127.0.0.1:6379}",
                description = "Redis URI: one node (standalone or Cluster), redis://h1:p1,h2:p2 (Cluster seeds)"
                        + " or redis-sentinel://h1:p1#master (env TASKPOOL_REDIS_URL; default ${DEFAULT-VALUE})")
        public String redis;

        @Mixin
        public RedisTlsOption tls;

        RedisConnector connect() {
            return connect(null);
        }

        /** Connects, handing every command's latency to {@code latencies} (null: none recorded). */
        RedisConnector connect(CommandLatencies latencies) {
            return RedisConnector.connect(redis, RedisConnector.DEFAULT_COMMAND_TIMEOUT, tls.settings(), latencies);
        }
    }

    /** The files of a rediss:// connection (a private CA, a client certificate for mutual TLS). */
    public static final class RedisTlsOption {
        @Option(names = "--redis-ca", paramLabel = "FILE", defaultValue = "${env:" + RedisTls.CA_VARIABLE + "}",
                description = "PEM file of the CA that signed the Redis server's certificate, for rediss:// URLs"
                        + " (env " + RedisTls.CA_VARIABLE + "; default: the JVM's trusted CAs)")
        String ca;

        @Option(names = "--redis-cert", paramLabel = "FILE", defaultValue = "${env:" + RedisTls.CERT_VARIABLE + "}",
                description = "PEM client certificate for mutual TLS (env " + RedisTls.CERT_VARIABLE + "; needs --redis-key)")
        String cert;

        @Option(names = "--redis-key", paramLabel = "FILE", defaultValue = "${env:" + RedisTls.KEY_VARIABLE + "}",
                description = "its unencrypted PKCS#8 PEM key (env " + RedisTls.KEY_VARIABLE + ")")
        String key;

        public RedisTls settings() {
            return RedisTls.of(ca, cert, key);
        }
    }

    /** {@code --json}: output for scripts instead of tables. */
    static final class JsonOption {
        @Option(names = "--json", description = "print JSON (for scripts) instead of a table")
        boolean json;
    }

    /** {@code --by}: who did an action, recorded with it and in its event. */
    static final class ByOption {
        /** The longest name --by takes: it is shown in tables and event lines, and kept in every record it marks. */
        static final int MAX_LENGTH = 200;

        @Option(names = "--by", paramLabel = "WHO", defaultValue = "${env:TASKPOOL_OPERATOR:-${sys:user.name}}",
                converter = ByConverter.class,
                description = "who does it, recorded with the action and in its event: at most " + MAX_LENGTH
                        + " characters, no control characters (env TASKPOOL_OPERATOR; default: the user name, ${DEFAULT-VALUE})")
        String by;
    }

    /**
     * Refuses a --by that is too long or holds control characters: it is shown on operators'
     * terminals and the dashboard, and a name has no use for either (refused rather than cleaned,
     * so what is recorded is what was typed).
     */
    static final class ByConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            int length = value.codePointCount(0, value.length());
            if (length > ByOption.MAX_LENGTH) {
                throw new CommandLine.TypeConversionException("it is " + length + " characters long; at most "
                        + ByOption.MAX_LENGTH + " are allowed (env TASKPOOL_OPERATOR too)");
            }
            String visible = Visible.line(value);
            if (!visible.equals(value)) {
                throw new CommandLine.TypeConversionException("'" + visible + "' holds control characters"
                        + " (shown escaped); a name may not");
            }
            return value;
        }
    }

    static final class AppOption {
        @Option(names = "--app", paramLabel = "DIR", defaultValue = "${env:TASKPOOL_APP:-.}",
                description = "the app directory with tasks/ and scripts/ (env TASKPOOL_APP; default ${DEFAULT-VALUE})")
        Path app;
    }

    static final class ArgsLimitOption {
        @Option(names = "--max-args", paramLabel = "SIZE", converter = SizeConverter.class,
                defaultValue = "${env:TASKPOOL_MAX_ARGS:-1MiB}",
                description = "the largest arguments of one task, as JSON (env TASKPOOL_MAX_ARGS; default ${DEFAULT-VALUE})")
        long maxArgs;
    }

    static final class ResultLimitOption {
        @Option(names = "--max-result", paramLabel = "SIZE", converter = SizeConverter.class,
                defaultValue = "${env:TASKPOOL_MAX_RESULT:-1MiB}",
                description = "the largest result of one task, as JSON; a larger one fails the task"
                        + " (env TASKPOOL_MAX_RESULT; default ${DEFAULT-VALUE})")
        long maxResult;
    }

    /** Reads a size: bytes, or with a unit ("512KiB", "4MiB"). */
    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return ValueLimits.parseSize(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Reads "500ms", "10s", "2m" or a plain number of seconds. */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String text = value.trim().toLowerCase();
            try {
                if (text.endsWith("ms")) {
                    return Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
                }
                if (text.endsWith("s")) {
                    return Duration.ofMillis(Math.round(Double.parseDouble(text.substring(0, text.length() - 1)) * 1000));
                }
                if (text.endsWith("m")) {
                    return Duration.ofSeconds(Math.round(Double.parseDouble(text.substring(0, text.length() - 1)) * 60));
                }
                return Duration.ofMillis(Math.round(Double.parseDouble(text) * 1000));
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (expected e.g. 500ms, 10s, 2m)");
            }
        }
    }
}
