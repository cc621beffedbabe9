# The taskpool worker image: `docker compose up` builds it; the app directory is mounted at /app.
FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
COPY pom.xml ./
COPY support support
COPY core core
COPY client client
COPY worker worker
RUN mvn -q -B -DskipTests package

FROM eclipse-temurin:25-jre
WORKDIR /opt/taskpool
COPY --from=build /src/worker/target/taskpool.jar ./taskpool.jar
COPY --from=build /src/worker/target/lib ./lib
COPY examples /opt/taskpool/examples
ENV TASKPOOL_HOME=/opt/taskpool TASKPOOL_APP=/app
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar", "/opt/taskpool/taskpool.jar"]
CMD ["worker"]
