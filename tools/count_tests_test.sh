#!/usr/bin/env bash
# Checks tools/count_tests.py, which turns bazel's test summary into CI's closing
# line: cases are counted from test.xml, a target without a result is a failure,
# and --ignore-unfinished (a run cut short by a time budget) lists such targets
# instead of failing them.
set -euo pipefail
count="$(dirname "$0")/count_tests.py"
[[ -f "${count}" ]] || count="tools/count_tests.py"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

mkdir -p "${work}/logs/pkg/a_test" "${work}/logs/pkg/b_test"
cat >"${work}/logs/pkg/a_test/test.xml" <<'XML'
<testsuites><testsuite>
  <testcase name="one"/><testcase name="two"/>
  <testcase name="three"><skipped/></testcase>
</testsuite></testsuites>
XML
cat >"${work}/logs/pkg/b_test/test.xml" <<'XML'
<testsuites><testsuite>
  <testcase name="one"/><testcase name="two"><failure message="boom"/></testcase>
</testsuite></testsuites>
XML

expect() {  # expect WANTED_LAST_LINE WANTED_STATUS ARGS...
  local wanted="$1" wanted_status="$2"
  shift 2
  local output status=0
  output="$(python3 "${count}" "$@")" || status=$?
  local last="${output##*$'\n'}"
  if [[ "${last}" != "${wanted}" || ${status} -ne ${wanted_status} ]]; then
    echo "count_tests.py $*: got '${last}' (exit ${status}), want '${wanted}' (exit ${wanted_status})"
    echo "${output}"
    exit 1
  fi
}

printf '//pkg:a_test  PASSED in 1.0s\n' >"${work}/passed.log"
expect "2 passed, 0 failed, 1 skipped" 0 "${work}/passed.log" "${work}/logs"

printf '//pkg:a_test (cached) PASSED in 1.0s\n//pkg:b_test  FAILED in 2.0s\n' >"${work}/failed.log"
expect "3 passed, 1 failed, 1 skipped" 1 "${work}/failed.log" "${work}/logs"

printf '//pkg:a_test  PASSED in 1.0s\n//pkg:c_test  NO STATUS\n' >"${work}/cut.log"
expect "2 passed, 1 failed, 1 skipped" 1 "${work}/cut.log" "${work}/logs"
expect "2 passed, 0 failed, 1 skipped" 0 --ignore-unfinished "${work}/cut.log" "${work}/logs"

printf '//pkg:d_test  FAILED TO BUILD\n' >"${work}/build.log"
expect "0 passed, 1 failed" 1 --ignore-unfinished "${work}/build.log" "${work}/logs"

: >"${work}/empty.log"
expect "0 passed, 1 failed" 1 "${work}/empty.log" "${work}/logs"
echo "count_tests.py: all cases pass"
