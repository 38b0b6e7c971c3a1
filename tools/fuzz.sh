#!/usr/bin/env bash
# Builds the libFuzzer targets of //fuzz with clang (ASan + UBSan) and runs each for
# a bounded time from a copy of its seed corpus, then prints executions, exec/s,
# coverage and corpus size per target. The same script serves CI-style smoke runs
# and the 10-minute runs of docs/fuzzing.md:
#
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#   tools/fuzz.sh 20                                   (bounded run, every target)
#   tools/fuzz.sh 10 gguf_fuzzer html_fuzzer           (a few targets)
#   TESSERA_FUZZ_JOBS=2 TESSERA_FUZZ_NICE=15 tools/fuzz.sh 600   (the 10-minute runs)
#
# Exit status 1 when any target finds a crash, leak, timeout or broken invariant;
# the input is saved as $WORK/<target>-crash-... (minimise it with
# `<fuzzer> -minimize_crash=1 -runs=10000 FILE`, replay it with the regression test
# binary or the fuzzer itself, then add it to fuzz/corpus/<target>/ with the fix).
# The build uses its own Bazel output base, so the gcc build's cache stays valid.
# Environment:
#   TESSERA_FUZZ_OUTPUT_BASE  Bazel output base (default /tmp/bazel_fuzz)
#   TESSERA_FUZZ_WORK         working corpora, logs and crash inputs (default
#                             /tmp/tessera-fuzz; grown corpora are kept between runs)
#   TESSERA_FUZZ_FRESH=1      start each target from a fresh copy of its seed corpus
#   TESSERA_FUZZ_JOBS         fuzzers run at the same time (default 1; each uses one core)
#   TESSERA_FUZZ_NICE         nice level of the fuzzers (default 19)
#   TESSERA_FUZZ_SKIP_BUILD=1 use the fuzzers already built in the output base
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
[[ $# -gt 0 ]] && shift
if ! [[ "${seconds}" =~ ^[0-9]+$ ]] || [[ "${seconds}" -eq 0 ]]; then
  echo "fuzz: SECONDS_PER_TARGET must be a positive integer, got '${seconds}'" >&2
  exit 2
fi
output_base="${TESSERA_FUZZ_OUTPUT_BASE:-/tmp/bazel_fuzz}"
work="${TESSERA_FUZZ_WORK:-/tmp/tessera-fuzz}"
nice_level="${TESSERA_FUZZ_NICE:-19}"
jobs="${TESSERA_FUZZ_JOBS:-1}"
fresh="${TESSERA_FUZZ_FRESH:-0}"

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for source in fuzz/*_fuzzer.cc; do
    targets+=("$(basename "${source}" .cc)")
  done
fi
labels=()
for target in "${targets[@]}"; do
  if [[ ! -f "fuzz/${target}.cc" ]]; then
    echo "fuzz: no such target: ${target}" >&2
    exit 2
  fi
  labels+=("//fuzz:${target}")
done

# Its own Bazel server, which exits after 10 idle minutes instead of holding memory.
bazel="bazel --output_base=${output_base} --max_idle_secs=600"
if [[ "${TESSERA_FUZZ_SKIP_BUILD:-0}" != 1 ]]; then
  # No convenience symlinks: bazel-<name> pointing into this output base would be
  # read as source packages by the normal build of the workspace.
  ${bazel} build --config=fuzz --symlink_prefix=/ "${labels[@]}"
fi
bin="$(${bazel} info --config=fuzz bazel-bin 2>/dev/null)"

# Poppler (uninstrumented) keeps caches it never frees; leaks there are not ours.
extra_options() {
  case "$1" in
    pdf_fuzzer) echo "-detect_leaks=0" ;;
  esac
}

# Runs one target and writes its summary line to ${work}/<target>/result.
run_target() {
  local target="$1"
  local dir="${work}/${target}"
  local corpus="${dir}/corpus"
  local log="${dir}/fuzz.log"
  if [[ "${fresh}" == 1 ]]; then rm -rf "${dir}"; fi
  rm -f "${dir}/result"
  mkdir -p "${corpus}"
  # The fuzzer grows its own copy; the checked-in seeds stay untouched.
  cp -n "fuzz/corpus/${target}"/* "${corpus}/" 2>/dev/null || true
  echo "fuzz: ${target} for ${seconds}s (log ${log})"
  touch "${dir}/started"
  local status=0
  # shellcheck disable=SC2046
  nice -n "${nice_level}" "${bin}/fuzz/${target}" -max_total_time="${seconds}" \
    -print_final_stats=1 -rss_limit_mb=2048 -timeout=20 \
    -artifact_prefix="${work}/${target}-" $(extra_options "${target}") \
    "${corpus}" >"${log}" 2>&1 || status=$?
  local execs rate cov features units result
  execs="$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "${log}" | grep -o '[0-9]*$' | tail -1 || true)"
  rate="$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "${log}" | grep -o '[0-9]*$' | tail -1 || true)"
  cov="$(grep -ao 'cov: [0-9]*' "${log}" | tail -1 | grep -o '[0-9]*$' || true)"
  features="$(grep -ao 'ft: [0-9]*' "${log}" | tail -1 | grep -o '[0-9]*$' || true)"
  units="$(find "${corpus}" -type f | wc -l)"
  result="ok"
  # Inputs slower than 10 s do not fail the run, but they are worth a look.
  local slow
  slow="$(find "${work}" -maxdepth 1 -name "${target}-slow-unit-*" -newer "${dir}/started" | wc -l)"
  if [[ ${slow} -gt 0 ]]; then result="ok (${slow} slow units saved as ${work}/${target}-slow-unit-*)"; fi
  if [[ ${status} -ne 0 ]]; then
    result="FAILED (exit ${status}): $(grep -a -m1 -E 'ERROR|fuzz: check failed|runtime error|Timeout|leak' "${log}" || true)"
  fi
  printf '%-28s execs %-10s exec/s %-7s cov %-6s ft %-6s corpus %-5s %s\n' "${target}" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${features:-?}" "${units}" "${result}" \
    >"${dir}/result"
  return "${status}"
}

mkdir -p "${work}"
pids=()
for target in "${targets[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge ${jobs} ]]; do wait -n || true; done
  run_target "${target}" &
  pids+=("$!")
done
for pid in "${pids[@]}"; do wait "${pid}" || true; done
failed=0

echo
echo "fuzz: ${seconds}s per target"
for target in "${targets[@]}"; do
  if [[ ! -f "${work}/${target}/result" ]]; then
    echo "${target}: no result"
    failed=1
    continue
  fi
  cat "${work}/${target}/result"
  if grep -q FAILED "${work}/${target}/result"; then failed=1; fi
done
exit "${failed}"
