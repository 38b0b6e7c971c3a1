#!/usr/bin/env bash
# Builds the libFuzzer targets of //fuzz with clang (ASan + UBSan) and runs each for
# a bounded time from its seed corpus, then prints executions and coverage per target.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#   tools/fuzz.sh 10 gguf_fuzzer html_fuzzer           (a CI smoke run)
#
# Exit status 1 when any target finds a crash, leak, timeout or broken invariant;
# the input is saved as $WORK/<target>-crash-... (replay it with the regression test
# binary or the fuzzer itself, then add it to fuzz/corpus/<target>/ with the fix).
# The build uses its own Bazel output base, so the gcc build's cache stays valid.
# Environment: TESSERA_FUZZ_OUTPUT_BASE (default /tmp/bazel_fuzz), TESSERA_FUZZ_WORK
# (default /tmp/tessera-fuzz; grown corpora are kept there between runs),
# TESSERA_FUZZ_NICE (default 19).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
[[ $# -gt 0 ]] && shift
output_base="${TESSERA_FUZZ_OUTPUT_BASE:-/tmp/bazel_fuzz}"
work="${TESSERA_FUZZ_WORK:-/tmp/tessera-fuzz}"
nice_level="${TESSERA_FUZZ_NICE:-19}"

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for source in fuzz/*_fuzzer.cc; do
    name="$(basename "${source}" .cc)"
    targets+=("${name}")
  done
fi
labels=()
for target in "${targets[@]}"; do labels+=("//fuzz:${target}"); done

# Its own Bazel server, which exits after 10 idle minutes instead of holding memory.
bazel="bazel --output_base=${output_base} --max_idle_secs=600"
${bazel} build --config=fuzz "${labels[@]}"
bin="$(${bazel} info --config=fuzz bazel-bin 2>/dev/null)"

# Poppler (uninstrumented) keeps caches it never frees; leaks there are not ours.
extra_options() {
  case "$1" in
    pdf_fuzzer) echo "-detect_leaks=0" ;;
  esac
}

mkdir -p "${work}"
failed=0
summary=()
for target in "${targets[@]}"; do
  corpus="${work}/${target}/corpus"
  mkdir -p "${corpus}"
  log="${work}/${target}/fuzz.log"
  echo "fuzz: ${target} for ${seconds}s (log ${log})"
  status=0
  # shellcheck disable=SC2046
  nice -n "${nice_level}" "${bin}/fuzz/${target}" -max_total_time="${seconds}" \
    -print_final_stats=1 -rss_limit_mb=2048 -timeout=20 \
    -artifact_prefix="${work}/${target}-" $(extra_options "${target}") \
    "${corpus}" "fuzz/corpus/${target}" >"${log}" 2>&1 || status=$?
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "${log}" | grep -o '[0-9]*$' | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "${log}" | tail -1 | grep -o '[0-9]*$')"
  features="$(grep -o 'ft: [0-9]*' "${log}" | tail -1 | grep -o '[0-9]*$')"
  units="$(ls "${corpus}" | wc -l)"
  result="ok"
  if [[ ${status} -ne 0 ]]; then
    result="FAILED (exit ${status}): $(grep -m1 -E 'ERROR|fuzz: check failed|runtime error|Timeout|leak' "${log}" || true)"
    failed=1
  fi
  summary+=("$(printf '%-28s execs %-10s cov %-6s ft %-6s corpus %-5s %s' "${target}" \
    "${execs:-?}" "${cov:-?}" "${features:-?}" "${units}" "${result}")")
done

echo
echo "fuzz: ${seconds}s per target"
printf '%s\n' "${summary[@]}"
exit "${failed}"
