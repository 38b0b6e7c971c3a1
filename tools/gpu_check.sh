#!/usr/bin/env bash
# GPU checks of the CUDA path (issue 6), for a machine with an NVIDIA GPU, CUDA 13
# at /usr/local/cuda and the usual Debian 12 build packages. Builds and runs the
# engine/cuda tests (kernels vs CPU references, the CUDA executor vs the CPU
# forward pass, greedy tokens) and the serving engine test (whose "auto" executor
# is the CUDA one on a GPU: concurrent requests vs single-request CPU results)
# without caching, then the serving benchmark on the
# CUDA executor. Everything is bounded to fit in about 8 minutes; results are
# printed, and the exit status is non-zero when a step failed.
#   bash tools/gpu_check.sh [--bench_args="--shape=llama-100m --requests=32"]
set -uo pipefail
cd "$(dirname "$0")/.."
export TESSERA_SHARED_DIR="${TESSERA_SHARED_DIR:-$(cd .. && pwd)/shared}"
BENCH_ARGS="--shape=tinyllama-1.1b --dtype=q8_0 --requests=64 --concurrency=16"
for arg in "$@"; do
  case "$arg" in
    --bench_args=*) BENCH_ARGS="${arg#--bench_args=}" ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

failed=0
step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }

step "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv ||
  echo "nvidia-smi not available"

step "build (nvcc for sm_80/sm_90 + PTX)"
start=$(date +%s)
if ! timeout 240 bazel build //engine/cuda/... //engine/serving:serving_engine_test //bench:serving_bench; then
  # The benchmark may not exist in every tree; the CUDA tests must build.
  timeout 200 bazel build //engine/cuda/... || { echo "BUILD FAILED"; exit 1; }
fi
echo "build: $(( $(date +%s) - start )) s"

step "engine/cuda tests, and the serving engine test (on the CUDA executor via --device auto)"
start=$(date +%s)
timeout 150 bazel test //engine/cuda/... //engine/serving:serving_engine_test --cache_test_results=no --test_output=all \
    --test_timeout=140 2>&1 | grep -E "^\[|PASSED|FAILED|SKIPPED|Expected|Which is|error|cuda:|CUDA|step |blocks of|Failure|\.cc:[0-9]+" |
  grep -v "^\[----------\]" | tail -120
test_status=${PIPESTATUS[0]}
[ "$test_status" -eq 0 ] || failed=1
echo "tests: exit $test_status, $(( $(date +%s) - start )) s"

step "serving benchmark on the CUDA executor: $BENCH_ARGS"
if [ -x bazel-bin/bench/serving_bench ]; then
  # shellcheck disable=SC2086
  timeout 180 bazel-bin/bench/serving_bench --device=cuda $BENCH_ARGS || failed=1
else
  echo "bazel-bin/bench/serving_bench not built; benchmark skipped"
  failed=1
fi

step "done: $([ $failed -eq 0 ] && echo OK || echo FAILURES)"
exit $failed
