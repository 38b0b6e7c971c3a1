#!/usr/bin/env bash
# Java client test: starts the real server, compiles a client against the
# generated Java stubs (//proto:tessera_java) with plain javac and Debian's
# grpc-java jars, and runs it against the server over loopback.
set -euo pipefail

RUNFILES="${TEST_SRCDIR}/${TEST_WORKSPACE}"
SERVER="${RUNFILES}/services/tessera_server"
STUBS_JAR="${RUNFILES}/proto/tessera_java.jar"
SOURCE="${RUNFILES}/tests/java/ai/tessera/tests/IngestClientTest.java"
CLASSPATH_FILE="${RUNFILES}/bazel/java_classpath.txt"
WORK="${TEST_TMPDIR}/java_client"
mkdir -p "${WORK}/classes"

# Every Netty jar Debian ships is needed by grpc-netty at run time.
CP="${STUBS_JAR}:$(tr '\n' ':' < "${CLASSPATH_FILE}")$(ls /usr/share/java/netty-*.jar | tr '\n' ':')"

"${SERVER}" --host=127.0.0.1 --port=0 --port_file="${WORK}/port" \
  --data_dir="${WORK}/data" --log_level=warn &
SERVER_PID=$!
trap 'kill -TERM ${SERVER_PID} 2>/dev/null || true; wait ${SERVER_PID} 2>/dev/null || true' EXIT

for _ in $(seq 1 300); do
  [[ -s "${WORK}/port" ]] && break
  sleep 0.1
done
[[ -s "${WORK}/port" ]] || { echo "server did not start"; exit 1; }
PORT=$(cat "${WORK}/port")

javac -encoding UTF-8 -cp "${CP}" -d "${WORK}/classes" "${SOURCE}"
java -cp "${WORK}/classes:${CP}" ai.tessera.tests.IngestClientTest "127.0.0.1:${PORT}"
