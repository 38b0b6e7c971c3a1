#!/usr/bin/env bash
# Runs the whole test suite and prints one closing line "N passed, N failed"
# (", N skipped" when some tests skipped themselves, e.g. for a missing model file).
# Exits non-zero when any test fails or does not build.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/install_deps.sh >/dev/null || { echo "install_deps failed"; echo "0 passed, 1 failed"; exit 1; }

# Tests that read ../shared find it through this variable.
export TESSERA_SHARED_DIR="${TESSERA_SHARED_DIR:-$(cd .. && pwd)/shared}"

# Convenience symlinks (bazel-*) into another output base, left by an older
# sanitizer or fuzz build, would be read as source packages by `//...`.
execroot="$(bazel info execution_root 2>/dev/null)"
for link in bazel-*; do
  if [[ -L "${link}" && -n "${execroot}" && "$(readlink "${link}")" != "${execroot}"* ]]; then
    rm -f "${link}"
  fi
done

LOG=$(mktemp)
bazel test //... \
  --disk_cache="${HOME}/.cache/tessera-bazel-disk" \
  --test_summary=short \
  --test_env=TESSERA_SHARED_DIR \
  "$@" 2>&1 | tee "${LOG}"
BAZEL_RC=${PIPESTATUS[0]}

python3 tools/count_tests.py "${LOG}" "$(bazel info bazel-testlogs 2>/dev/null)"
COUNT_RC=$?
rm -f "${LOG}"
if [[ ${BAZEL_RC} -ne 0 || ${COUNT_RC} -ne 0 ]]; then
  exit 1
fi
