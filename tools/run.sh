#!/usr/bin/env bash
# Installs what is missing, builds Tessera and starts the embedded default: every
# service in one process, SQLite and local indexes under ./tessera-data, models
# from ../shared/models (or --models=PATH).
#   bash tools/run.sh [--models=PATH] [--port=50051] [--data_dir=./tessera-data]
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS="$(cd .. && pwd)/shared/models"
PORT=50051
DATA_DIR=./tessera-data
EXTRA=()
for arg in "$@"; do
  case "${arg}" in
    --models=*) MODELS="${arg#--models=}" ;;
    --port=*) PORT="${arg#--port=}" ;;
    --data_dir=*) DATA_DIR="${arg#--data_dir=}" ;;
    *) EXTRA+=("${arg}") ;;
  esac
done

bash tools/install_deps.sh
bazel build --disk_cache="${HOME}/.cache/tessera-bazel-disk" //services:tessera
echo "models: ${MODELS}"
exec bazel-bin/services/tessera serve --port="${PORT}" --data_dir="${DATA_DIR}" \
  --models_dir="${MODELS}" "${EXTRA[@]+"${EXTRA[@]}"}"
