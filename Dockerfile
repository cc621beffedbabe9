# The taskpool worker image: `docker compose up` builds it; the app directory is mounted at /app.
FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
COPY pom.xml ./
COPY support support
COPY core core
COPY client client
COPY worker worker
COPY dashboard dashboard
COPY cli cli
# (the cli module's tests compile the docs' Spring snippets against the starter, so the reactor
# builds the Spring Boot modules too; it reads every module's pom, and only the command line and
# what it needs are built: the benchmark harness and the example application are not shipped)
COPY spring-boot-autoconfigure spring-boot-autoconfigure
COPY spring-boot-starter spring-boot-starter
COPY examples/spring-boot/pom.xml examples/spring-boot/pom.xml
COPY bench/pom.xml bench/pom.xml
RUN mvn -q -B -DskipTests -pl cli -am package

FROM eclipse-temurin:25-jre
WORKDIR /opt/taskpool
COPY --from=build /src/cli/target/taskpool.jar ./taskpool.jar
COPY --from=build /src/cli/target/lib ./lib
COPY --from=build /src/cli/target/jvmci ./jvmci
COPY examples /opt/taskpool/examples
# The GraalJS optimizing compiler (JVMCI); set JDK_JAVA_OPTIONS= (empty) to run scripts interpreted.
# -XX:TieredStopAtLevel=1: the JVM's own code is compiled by C1 only, which pays off in worker
# containers of one or two CPUs (BENCHMARKS.md); drop it from JDK_JAVA_OPTIONS on bigger ones.
# Memory (docs/deploy.md, "Running it small"): the serial collector (no G1 remembered sets; a worker's
# pauses are milliseconds), a heap of at most half the container's memory limit that gives back
# what it does not use after a collection, a smaller code cache, and two malloc arenas instead
# of one per thread. With the same flags outside a container (TASKPOOL_MEMORY=small) a worker
# measured 168 MB resident idle instead of 211 MB, and 169-184 MB instead of 213-299 MB after
# 20,000 script tasks, with no throughput difference beyond the noise. Without a memory limit the
# heap may reach half the host's memory: give the container one (docker-compose.yml does).
ENV TASKPOOL_HOME=/opt/taskpool TASKPOOL_APP=/app MALLOC_ARENA_MAX=2 \
    JDK_JAVA_OPTIONS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:MaxRAMPercentage=50 -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:ReservedCodeCacheSize=64m -XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI --upgrade-module-path=/opt/taskpool/jvmci/compiler.jar:/opt/taskpool/jvmci/collections.jar:/opt/taskpool/jvmci/word.jar:/opt/taskpool/jvmci/truffle-compiler.jar"
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar", "/opt/taskpool/taskpool.jar"]
CMD ["worker"]
