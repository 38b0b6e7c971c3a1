#!/usr/bin/env bash
# Runs the test suite under the sanitizers of .bazelrc (issue 11), each configuration
# in its own Bazel output base so the normal build's cache stays valid:
#
#   tools/sanitizers.sh [asan|ubsan|tsan|all]... [-- BAZEL_ARGS...]   (default: asan)
#
#   asan   ASan + UBSan (--config=asan, gcc): the unit tests of every library
#          package, then the integration tests of //tests.
#   ubsan  UBSan alone (--config=ubsan): the unit tests (optional; asan covers UB too).
#   tsan   TSan (--config=tsan) over the concurrent parts: the serving engine, the
#          router and its caches, the index registry and the agents run manager.
#
# Tests that cannot run under a sanitizer carry tags = ["no_asan"] / ["no_tsan"] with
# the reason beside them; known reports from uninstrumented system libraries are
# suppressed by the files in tools/sanitizers/ (each entry says why).
# Results and findings: docs/sanitizers.md.
# Environment: TESSERA_SANITIZER_OUTPUT_ROOT (default /tmp; output bases are
# <root>/bazel_<config>), TESSERA_SANITIZER_NICE (default 10), TESSERA_SANITIZER_JOBS
# (default 2), TESSERA_SHARED_DIR (passed to the tests, default ../shared).
# Exit status: 1 when any test fails in any configuration.
set -uo pipefail
cd "$(dirname "$0")/.."
root_dir="$(pwd)"

configs=()
bazel_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    asan | ubsan | tsan) configs+=("$1") ;;
    all) configs+=(asan ubsan tsan) ;;
    --) shift; bazel_args=("$@"); break ;;
    *) echo "sanitizers: unknown configuration '$1' (asan, ubsan, tsan, all)" >&2; exit 2 ;;
  esac
  shift
done
[[ ${#configs[@]} -eq 0 ]] && configs=(asan)

output_root="${TESSERA_SANITIZER_OUTPUT_ROOT:-/tmp}"
nice_level="${TESSERA_SANITIZER_NICE:-10}"
jobs="${TESSERA_SANITIZER_JOBS:-2}"
export TESSERA_SHARED_DIR="${TESSERA_SHARED_DIR:-$(cd .. && pwd)/shared}"
suppressions="${root_dir}/tools/sanitizers"

unit_tests=(//common/... //ingest/... //retrieval/... //engine/... //agents/...
  //gateway/... //eval/... //services/... //fuzz/...)
integration_tests=(//tests/...)
# The concurrent parts: the batching scheduler of the serving engine (when present),
# the router (rate limiter, response cache, circuit breakers, model gateway), the
# index registry that caches open indexes, and the agents run manager.
tsan_tests=(//gateway/... //retrieval:all //retrieval/sharding/... //agents:run_manager_test
  //agents:crash_recovery_test)
if [[ -f engine/serving/BUILD || -f engine/serving/BUILD.bazel ]]; then
  tsan_tests+=(//engine/serving/...)
fi

failed=0
# run_bazel CONFIG TAG_FILTER TARGETS...: one `bazel test` in the output base of CONFIG.
run_bazel() {
  local config="$1" tag_filter="$2"
  shift 2
  # Suppression files are optional: tools/sanitizers/{lsan,ubsan,tsan}.supp.
  local sanitizer_env=()
  case "${config}" in
    asan)
      sanitizer_env=("--test_env=ASAN_OPTIONS=detect_leaks=1")
      if [[ -f "${suppressions}/lsan.supp" ]]; then
        sanitizer_env+=("--test_env=LSAN_OPTIONS=suppressions=${suppressions}/lsan.supp")
      fi
      ;;
    tsan)
      local tsan_options="halt_on_error=1:second_deadlock_stack=1"
      if [[ -f "${suppressions}/tsan.supp" ]]; then
        tsan_options+=":suppressions=${suppressions}/tsan.supp"
      fi
      sanitizer_env=("--test_env=TSAN_OPTIONS=${tsan_options}")
      ;;
  esac
  if [[ "${config}" != tsan ]]; then
    local ubsan_options="print_stacktrace=1:halt_on_error=1"
    if [[ -f "${suppressions}/ubsan.supp" ]]; then
      ubsan_options+=":suppressions=${suppressions}/ubsan.supp"
    fi
    sanitizer_env+=("--test_env=UBSAN_OPTIONS=${ubsan_options}")
  fi
  echo "sanitizers: --config=${config} $*"
  nice -n "${nice_level}" bazel --output_base="${output_root}/bazel_${config}" \
    test --config="${config}" --disk_cache= --jobs="${jobs}" --keep_going \
    --test_tag_filters="${tag_filter}" "${sanitizer_env[@]}" \
    "${bazel_args[@]}" "$@" || failed=1
}

for config in "${configs[@]}"; do
  case "${config}" in
    asan)
      run_bazel asan -no_asan "${unit_tests[@]}"
      run_bazel asan -no_asan "${integration_tests[@]}"
      ;;
    ubsan) run_bazel ubsan -no_asan "${unit_tests[@]}" ;;
    tsan) run_bazel tsan -no_tsan "${tsan_tests[@]}" ;;
  esac
done
exit "${failed}"
