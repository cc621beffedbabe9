# Sourced by mvnw and bin/taskpool: makes JAVA_HOME a JDK 25 or newer (the build targets Java 25,
# class file version 69), or stops with one line saying what to set.
# Order: JAVA_HOME when it is one; else a JDK 25+ under /usr/lib/jvm; else the java on PATH.

taskpool_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
}

# The JDK's release file says its version without starting a JVM (that costs a tenth of a second).
taskpool_jdk_major() {
  local version
  version="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -n1)"
  [ -n "$version" ] || version="$(taskpool_java_major "$1/bin/java")"
  echo "${version:-0}"
}

taskpool_is_jdk25() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ "$(taskpool_jdk_major "$1")" -ge 25 ] 2>/dev/null
}

taskpool_pick_java_home() {
  if [ -n "${JAVA_HOME:-}" ] && taskpool_is_jdk25 "$JAVA_HOME"; then
    return 0
  fi
  local candidate
  for candidate in /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/java-25-* /usr/lib/jvm/*; do
    if taskpool_is_jdk25 "$candidate"; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  if command -v java >/dev/null; then
    candidate="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    if taskpool_is_jdk25 "$candidate"; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  fi
  echo "taskpool needs a JDK 25 or newer: set JAVA_HOME to one (now: ${JAVA_HOME:-unset}; java on PATH:" \
    "$(command -v java >/dev/null && taskpool_java_major "$(command -v java)" || echo none))" >&2
  exit 1
}
