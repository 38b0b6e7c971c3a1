#!/usr/bin/env bash
# The `tessera` CLI as operators' scripts call it (../shared/INTERFACES.md):
# exit codes, outputs and error messages.
set -uo pipefail

RUNFILES="${TEST_SRCDIR}/${TEST_WORKSPACE}"
TESSERA="${RUNFILES}/services/tessera"
WORK="${TEST_TMPDIR}/cli"
SHARED="${TESSERA_SHARED_DIR:-}"
mkdir -p "${WORK}"
failures=0

check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "ok   ${what}"; else echo "FAIL ${what}"; failures=$((failures + 1)); fi
}

# --- unknown command and missing flags fail with a message
out=$("${TESSERA}" frobnicate 2>&1); rc=$?
check "unknown command exits non-zero" test ${rc} -ne 0
check "unknown command names itself" grep -q 'unknown command "frobnicate"' <<<"${out}"
out=$("${TESSERA}" tokenize --text=x 2>&1); rc=$?
check "tokenize without --tokenizer fails" test ${rc} -ne 0
out=$("${TESSERA}" tokenize --tokenizer=/nonexistent/tokenizer.model --text=x 2>&1); rc=$?
check "tokenize with a missing file fails" test ${rc} -ne 0
check "the error names the file" grep -q '/nonexistent' <<<"${out}"

# --- tokenize, against ids from Debian's python3-sentencepiece
if [[ -n "${SHARED}" && -f "${SHARED}/tokenizers/llama2/tokenizer.model" ]]; then
  expected="15043 3186 29892 298 3610 417 29991"
  out=$("${TESSERA}" tokenize --tokenizer="${SHARED}/tokenizers/llama2/tokenizer.model" --text="Hello world, héllo!")
  check "tokenize tokenizer.model matches sentencepiece" test "${out}" = "${expected}"
  out=$("${TESSERA}" tokenize --tokenizer="${SHARED}/tokenizers/llama2/tokenizer.bin" --text="Hello world, héllo!")
  check "tokenize tokenizer.bin matches sentencepiece" test "${out}" = "${expected}"
else
  echo "SKIP tokenize checks: ../shared/tokenizers/llama2 not found (set TESSERA_SHARED_DIR)"
fi

# --- model make-random writes real file formats at named shapes
out=$("${TESSERA}" model make-random --arch=bert --shape=tiny-bert --format=safetensors --out="${WORK}/bert")
check "make-random bert prints the directory" test "${out}" = "${WORK}/bert"
check "make-random bert writes config.json" test -s "${WORK}/bert/config.json"
check "make-random bert writes model.safetensors" test -s "${WORK}/bert/model.safetensors"
out=$("${TESSERA}" model make-random --arch=llama --shape=tiny-llama --format=gguf --dtype=q8_0 --out="${WORK}/tiny.gguf")
check "make-random llama gguf prints the file" test "${out}" = "${WORK}/tiny.gguf"
check "the GGUF file starts with the GGUF magic" test "$(head -c 4 "${WORK}/tiny.gguf")" = "GGUF"
out=$("${TESSERA}" model make-random --arch=gpt --shape=x --out="${WORK}/x" 2>&1); rc=$?
check "make-random with an unknown arch fails" test ${rc} -ne 0
check "the error names the arch" grep -q 'unknown arch' <<<"${out}"

# --- ingest into an embedded instance
mkdir -p "${WORK}/docs/sub"
printf 'First document. It has two sentences.\n' > "${WORK}/docs/a.txt"
printf 'Nested document.\n' > "${WORK}/docs/sub/b.txt"
printf 'hidden\n' > "${WORK}/docs/.hidden.txt"
out=$("${TESSERA}" ingest --data_dir="${WORK}/data" --collection=notes "${WORK}/docs" 2>/dev/null); rc=$?
check "ingest of a directory succeeds" test ${rc} -eq 0
check "ingest summary counts 2 documents (hidden files skipped)" \
  grep -q '^ingested 2 documents (0 failed)' <<<"${out}"
out=$("${TESSERA}" ingest --data_dir="${WORK}/data" --collection=notes /nonexistent 2>&1); rc=$?
check "ingest of a missing path fails" test ${rc} -ne 0
check "the error names the path" grep -q '/nonexistent' <<<"${out}"
out=$("${TESSERA}" ingest --data_dir="${WORK}/data" "${WORK}/docs" 2>&1); rc=$?
check "ingest without --collection fails" test ${rc} -ne 0

# --- health and services against a running server
"${RUNFILES}/services/tessera_server" --host=127.0.0.1 --port=0 --port_file="${WORK}/port" \
  --data_dir="${WORK}/data" --log_level=warn &
pid=$!
for _ in $(seq 1 300); do [[ -s "${WORK}/port" ]] && break; sleep 0.1; done
target="127.0.0.1:$(cat "${WORK}/port")"
out=$("${TESSERA}" health --target="${target}"); rc=$?
check "health prints SERVING and exits 0" test "${out}" = "SERVING" -a ${rc} -eq 0
out=$("${TESSERA}" services --target="${target}")
check "services lists the ingest contract" grep -qx 'tessera.ingest.v1.IngestService' <<<"${out}"
check "services lists the generation contract" grep -qx 'tessera.generation.v1.GenerationService' <<<"${out}"
out=$("${TESSERA}" ingest --target="${target}" --collection=remote "${WORK}/docs/a.txt" 2>/dev/null); rc=$?
check "ingest --target into a running server" grep -q '^ingested 1 documents (0 failed)' <<<"${out}"
kill -TERM ${pid}; wait ${pid}
out=$("${TESSERA}" health --target="${target}" --timeout_seconds=2 2>/dev/null); rc=$?
check "health of a stopped server prints NOT_SERVING and exits non-zero" \
  test "${out}" = "NOT_SERVING" -a ${rc} -ne 0

echo "${failures} failure(s)"
exit $(( failures > 0 ))
