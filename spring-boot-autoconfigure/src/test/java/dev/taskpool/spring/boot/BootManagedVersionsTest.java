package dev.taskpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootVersion;

/**
 * This module's tests run on what Spring Boot's dependency management gives an application, not
 * on taskpool's own versions: Boot 4.0 with Lettuce 6.8, Netty 4.2, Micrometer 1.16 and Jackson
 * 2.21 (what {@code spring-boot-dependencies} manages; the pom's overrides must follow it).
 */
class BootManagedVersionsTest {
    private static String version(String group, String artifact) throws IOException {
        String path = "META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = BootManagedVersionsTest.class.getClassLoader().getResourceAsStream(path)) {
            assertThat(in).as(path + " on the test class path").isNotNull();
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        }
    }

    @Test
    void theTestsRunOnSpringBootsVersions() throws IOException {
        assertThat(SpringBootVersion.getVersion()).startsWith("4.0.");
        assertThat(version("io.lettuce", "lettuce-core")).startsWith("6.8.");
        assertThat(version("io.netty", "netty-transport")).startsWith("4.2.");
        assertThat(version("io.netty", "netty-transport-native-epoll")).isEqualTo(version("io.netty", "netty-transport"));
        // (Micrometer's jar has no Maven properties file: its manifest names the version)
        assertThat(MeterRegistry.class.getPackage().getImplementationVersion()).startsWith("1.16.");
        assertThat(version("com.fasterxml.jackson.core", "jackson-databind")).startsWith("2.21.");
        assertThat(version("com.fasterxml.jackson.datatype", "jackson-datatype-jsr310"))
                .isEqualTo(version("com.fasterxml.jackson.core", "jackson-databind"));
    }
}
