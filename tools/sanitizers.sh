#!/usr/bin/env bash
# Runs the test suite under the sanitizers of .bazelrc (issue 11), each configuration
# in its own Bazel output base so the normal build's cache stays valid:
#
#   tools/sanitizers.sh [asan|ubsan|tsan|all]... [-- BAZEL_ARGS...]   (default: asan)
#   tools/sanitizers.sh ci BUDGET_SECONDS    (the CI job of .ci/run, see below)
#
#   asan   ASan + UBSan (--config=asan, gcc): the unit tests of every library
#          package, then the integration tests of //tests.
#   ubsan  UBSan alone (--config=ubsan): the unit tests (optional; asan covers UB too).
#   tsan   TSan (--config=tsan) over the concurrent parts: the serving engine, the
#          router and its caches, the index registry and the agents run manager.
#   ci     The unit tests under ASan+UBSan within BUDGET_SECONDS, for .ci/run: the
#          build is interrupted when the budget is spent (its objects stay in a disk
#          cache, ~/.cache/tessera-bazel-asan, so the next run goes on from there) and
#          the tests run only once everything is built; output base bazel_asan_ci, apart
#          from the asan one of interactive runs. Ends with the line
#          "N passed, N failed" (0/0 when not finished, with the reason above it).
#
# Tests that cannot run under a sanitizer carry tags = ["no_asan"] / ["no_tsan"] with
# the reason beside them; known reports from uninstrumented system libraries are
# suppressed by the files in tools/sanitizers/ (each entry says why).
# Results and findings: docs/sanitizers.md.
# Environment: TESSERA_SANITIZER_OUTPUT_ROOT (default /tmp; output bases are
# <root>/bazel_<config>), TESSERA_SANITIZER_NICE (default 10), TESSERA_SANITIZER_JOBS
# (default 2), TESSERA_SHARED_DIR (passed to the tests, default ../shared),
# TESSERA_TSAN_ABSEIL (Abseil built with TSan, default ~/.cache/tessera-tsan-abseil;
# tools/sanitizers/build_tsan_abseil.sh makes it on the first tsan run).
# Exit status: 1 when any test fails in any configuration.
set -uo pipefail
cd "$(dirname "$0")/.."
root_dir="$(pwd)"

configs=()
bazel_args=()
ci_budget=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    ci)
      ci_budget="${2:-}"
      if ! [[ "${ci_budget}" =~ ^[0-9]+$ ]]; then
        echo "sanitizers: ci needs a budget in seconds" >&2
        exit 2
      fi
      shift
      ;;
    asan | ubsan | tsan) configs+=("$1") ;;
    all) configs+=(asan ubsan tsan) ;;
    --) shift; bazel_args=("$@"); break ;;
    *) echo "sanitizers: unknown configuration '$1' (asan, ubsan, tsan, all)" >&2; exit 2 ;;
  esac
  shift
done
[[ ${#configs[@]} -eq 0 && -z "${ci_budget}" ]] && configs=(asan)

output_root="${TESSERA_SANITIZER_OUTPUT_ROOT:-/tmp}"
nice_level="${TESSERA_SANITIZER_NICE:-10}"
jobs="${TESSERA_SANITIZER_JOBS:-2}"
export TESSERA_SHARED_DIR="${TESSERA_SHARED_DIR:-$(cd .. && pwd)/shared}"
suppressions="${root_dir}/tools/sanitizers"

disk_cache="${TESSERA_SANITIZER_DISK_CACHE:-}"
tsan_abseil="${TESSERA_TSAN_ABSEIL:-${HOME}/.cache/tessera-tsan-abseil}"
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
# sanitizer_flags CONFIG: the flags of CONFIG's tests (sanitizer options and
# suppressions, the shared data directory), one per line. Suppression files are optional: tools/sanitizers/{lsan,ubsan,tsan}.supp.
sanitizer_flags() {
  local config="$1"
  echo "--test_env=TESSERA_SHARED_DIR"
  case "${config}" in
    asan)
      echo "--test_env=ASAN_OPTIONS=detect_leaks=1"
      if [[ -f "${suppressions}/lsan.supp" ]]; then
        echo "--test_env=LSAN_OPTIONS=suppressions=${suppressions}/lsan.supp"
      fi
      ;;
    tsan)
      local tsan_options="halt_on_error=1:second_deadlock_stack=1"
      if [[ -f "${suppressions}/tsan.supp" ]]; then
        tsan_options+=":suppressions=${suppressions}/tsan.supp"
      fi
      echo "--test_env=TSAN_OPTIONS=${tsan_options}"
      # Abseil built with TSan (build_tsan_abseil.sh), ahead of Debian's.
      echo "--linkopt=-L${tsan_abseil}/lib"
      echo "--linkopt=-Wl,-rpath,${tsan_abseil}/lib"
      echo "--test_env=LD_LIBRARY_PATH=${tsan_abseil}/lib"
      ;;
  esac
  if [[ "${config}" != tsan ]]; then
    local ubsan_options="print_stacktrace=1:halt_on_error=1"
    if [[ -f "${suppressions}/ubsan.supp" ]]; then
      ubsan_options+=":suppressions=${suppressions}/ubsan.supp"
    fi
    echo "--test_env=UBSAN_OPTIONS=${ubsan_options}"
  fi
}

# bazel_in CONFIG ARGS...: bazel in the output base of CONFIG, niced. Builds pass
# --symlink_prefix=/: convenience symlinks (bazel-<name>) into another output base
# would be read as source packages by the workspace's normal build.
bazel_in() {
  local config="$1"
  shift
  nice -n "${nice_level}" bazel --output_base="${output_root}/bazel_${config}" "$@"
}

# run_bazel CONFIG TAG_FILTER TARGETS...: one `bazel test` in the output base of CONFIG.
run_bazel() {
  local config="$1" tag_filter="$2"
  shift 2
  local sanitizer_env
  mapfile -t sanitizer_env < <(sanitizer_flags "${config}")
  echo "sanitizers: --config=${config} $*"
  bazel_in "${config}" test --config="${config}" --symlink_prefix=/ --disk_cache="${disk_cache}" \
    --jobs="${jobs}" \
    --keep_going --test_tag_filters="${tag_filter}" "${sanitizer_env[@]}" \
    "${bazel_args[@]}" "$@" || failed=1
}

# run_ci BUDGET_SECONDS: the unit tests under ASan+UBSan, built within the budget.
run_ci() {
  local deadline=$(( $(date +%s) + $1 ))
  disk_cache="${TESSERA_SANITIZER_DISK_CACHE:-${HOME}/.cache/tessera-bazel-asan}"
  local common=(--config=asan --symlink_prefix=/ --disk_cache="${disk_cache}" --jobs="${jobs}" --keep_going
    --test_tag_filters=-no_asan --build_tests_only)
  local left=$(( deadline - $(date +%s) ))
  echo "sanitizers: ASan+UBSan unit tests, building within ${left} s"
  timeout -s INT -k 120 "${left}" nice -n "${nice_level}" \
    bazel --output_base="${output_root}/bazel_asan_ci" build "${common[@]}" "${unit_tests[@]}"
  local build_rc=$?
  if [[ ${build_rc} -eq 124 || ${build_rc} -eq 137 ]]; then
    echo "sanitizers: the ASan build did not finish within the CI budget; what it built is" \
      "cached in ${disk_cache} and the next run continues from there"
    bazel_in asan_ci shutdown >/dev/null 2>&1
    echo "0 passed, 0 failed"
    return 0
  fi
  local log
  log="$(mktemp)"
  local sanitizer_env
  mapfile -t sanitizer_env < <(sanitizer_flags asan)
  left=$(( deadline - $(date +%s) ))
  (( left < 60 )) && left=60
  echo "sanitizers: running the tests (${left} s left)"
  timeout -s INT -k 120 "${left}" nice -n "${nice_level}" \
    bazel --output_base="${output_root}/bazel_asan_ci" test "${common[@]}" --test_summary=short \
    --test_timeout=300,900,1800,3600 --flaky_test_attempts=2 \
    "${sanitizer_env[@]}" "${bazel_args[@]}" "${unit_tests[@]}" 2>&1 | tee "${log}"
  local test_rc=${PIPESTATUS[0]}
  local testlogs
  testlogs="$(bazel_in asan_ci info --config=asan bazel-testlogs 2>/dev/null)"
  if [[ ${test_rc} -eq 124 || ${test_rc} -eq 137 ]]; then
    # Cut short by the budget: the finished tests count, the rest run next time.
    echo "sanitizers: the ASan tests did not all finish within the CI budget"
    if grep -qE '^//\S+ .*(PASSED|FAILED|TIMEOUT)' "${log}"; then
      python3 "${root_dir}/tools/count_tests.py" --ignore-unfinished "${log}" "${testlogs}" ||
        failed=1
    else
      echo "0 passed, 0 failed"
    fi
  else
    python3 "${root_dir}/tools/count_tests.py" "${log}" "${testlogs}" || failed=1
  fi
  rm -f "${log}"
  bazel_in asan_ci shutdown >/dev/null 2>&1
}

if [[ -n "${ci_budget}" ]]; then
  run_ci "${ci_budget}"
fi
for config in "${configs[@]}"; do
  case "${config}" in
    asan)
      run_bazel asan -no_asan "${unit_tests[@]}"
      run_bazel asan -no_asan "${integration_tests[@]}"
      ;;
    ubsan) run_bazel ubsan -no_asan "${unit_tests[@]}" ;;
    tsan)
      "${suppressions}/build_tsan_abseil.sh" "${tsan_abseil}" || { failed=1; continue; }
      run_bazel tsan -no_tsan "${tsan_tests[@]}"
      ;;
  esac
done
exit "${failed}"
