#!/usr/bin/env bash
# Runs every crash-recovery test with TESSERA_CRASH_REPETITIONS kills each
# (default 20) and prints the totals: repetitions, acknowledged writes / steps /
# cases checked after the restarts, failures.
#   bash tools/crash_tests.sh            # 20 repetitions
#   bash tools/crash_tests.sh 5          # 5
# The test binaries are built with bazel and run directly (same configuration as
# `bazel test`, no --test_env change that would discard the analysis cache).
set -uo pipefail
cd "$(dirname "$0")/.."
REPETITIONS="${1:-20}"
TESTS=(ingest_crash_test index_crash_test agent_crash_test eval_crash_test)
TARGETS=()
for t in "${TESTS[@]}"; do TARGETS+=("//tests:$t"); done
# CRASH_TESTS_SKIP_BUILD=1: use the binaries already in bazel-bin.
if [[ -z "${CRASH_TESTS_SKIP_BUILD:-}" ]]; then bazel build "${TARGETS[@]}" || exit 1; fi
BIN="$(readlink -f bazel-bin)"
export TESSERA_SHARED_DIR="${TESSERA_SHARED_DIR:-$(cd .. && pwd)/shared}"
LOGS="$(mktemp -d /tmp/crash_tests.XXXXXX)"
total_reps=0; total_checked=0; total_failures=0
for t in "${TESTS[@]}"; do
  tmp="$(mktemp -d /tmp/crash_tmp.XXXXXX)"
  start=$(date +%s)
  TEST_SRCDIR="$BIN/tests/$t.runfiles" TEST_WORKSPACE=tessera TEST_TMPDIR="$tmp" \
    TESSERA_CRASH_REPETITIONS="$REPETITIONS" "$BIN/tests/$t" >"$LOGS/$t.log" 2>&1
  rc=$?
  seconds=$(( $(date +%s) - start ))
  rm -rf "$tmp"
  summary="$(grep -o 'CRASH_SUMMARY.*' "$LOGS/$t.log" | tail -1)"
  reps="$(sed -n 's/.*repetitions=\([0-9]*\).*/\1/p' <<<"$summary")"
  checked="$(sed -n 's/.*acknowledged_checked=\([0-9]*\).*/\1/p' <<<"$summary")"
  failures=0
  if [[ $rc -ne 0 || -z "$summary" ]]; then failures=1; fi
  printf '%-18s exit %d in %4d s: %s\n' "$t" "$rc" "$seconds" "${summary:-no summary (see $LOGS/$t.log)}"
  if [[ $failures -ne 0 ]]; then grep -E 'Failure|error|Expected|Which is' "$LOGS/$t.log" | head -20; fi
  total_reps=$((total_reps + ${reps:-0}))
  total_checked=$((total_checked + ${checked:-0}))
  total_failures=$((total_failures + failures))
done
echo "TOTAL: ${#TESTS[@]} crash tests, $total_reps kill -9 repetitions, $total_checked acknowledged writes/steps/cases checked, $total_failures failed (logs in $LOGS)"
[[ $total_failures -eq 0 ]]
