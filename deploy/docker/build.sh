#!/usr/bin/env bash
# Builds every Tessera image from deploy/docker/Dockerfile (one target per
# binary): build.sh [TAG] [REGISTRY]  ->  REGISTRY/tessera-<binary>:TAG
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TAG="${1:-dev}"
REGISTRY="${2:-registry.example.com/tessera}"
for binary in router ingest_server retrieval_server generation_server agents_server eval_server; do
  image="${REGISTRY}/${binary//_/-}:${TAG}"
  echo "== ${image}"
  docker build -f "${ROOT}/deploy/docker/Dockerfile" --target "${binary}" -t "${image}" "${ROOT}"
done
