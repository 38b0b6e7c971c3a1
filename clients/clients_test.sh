#!/usr/bin/env bash
# The Python and Java examples against the local multi-process cluster
# (deploy/local/cluster.sh): router + 3 retrieval shards for ingest and
# search, generation_server (a small random-weight LLaMA) for streamed
# generation, agents_server for an agent run.
set -euo pipefail

RUNFILES="${TEST_SRCDIR}/${TEST_WORKSPACE}"
WORK="${TEST_TMPDIR}/clients"
rm -rf "${WORK}" && mkdir -p "${WORK}"
CLUSTER="${WORK}/cluster"
BIN_DIR="${RUNFILES}/services/standalone"

cleanup() { bash "${RUNFILES}/deploy/local/cluster.sh" stop --dir "${CLUSTER}" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"${RUNFILES}/services/tessera" model make-random --arch=llama --shape=tiny-llama --format=gguf \
  --out="${WORK}/tiny.gguf" >/dev/null
bash "${RUNFILES}/deploy/local/cluster.sh" start --dir "${CLUSTER}" --bin_dir "${BIN_DIR}" \
  --generator_model "${WORK}/tiny.gguf" > "${WORK}/cluster.out"
# shellcheck disable=SC1091
source "${CLUSTER}/cluster.env"
echo "cluster: router ${ROUTER}, generation ${GENERATION}, agents ${AGENTS}, ${SHARDS} shards"

echo "== Python (python3-grpcio, stubs generated now)"
bash "${RUNFILES}/clients/python/generate_stubs.sh" "${RUNFILES}/proto" "${WORK}/python"
PYTHONPATH="${WORK}/python" /usr/bin/python3 "${RUNFILES}/clients/python/tessera_example.py" \
  --router "${ROUTER}" --generation "${GENERATION}" --agents "${AGENTS}"

echo "== Java (plain javac over //proto:tessera_java and Debian's grpc-java)"
CP="${RUNFILES}/proto/tessera_java.jar:$(tr '\n' ':' < "${RUNFILES}/bazel/java_classpath.txt")$(ls /usr/share/java/netty-*.jar | tr '\n' ':')"
mkdir -p "${WORK}/classes"
javac -encoding UTF-8 -cp "${CP}" -d "${WORK}/classes" \
  "${RUNFILES}/clients/java/ai/tessera/examples/TesseraExample.java"
java -Dsun.stdout.encoding=UTF-8 -cp "${WORK}/classes:${CP}" ai.tessera.examples.TesseraExample "${ROUTER}" "${GENERATION}" "${AGENTS}"

echo "== every process drains on SIGTERM"
bash "${RUNFILES}/deploy/local/cluster.sh" stop --dir "${CLUSTER}"
trap - EXIT
