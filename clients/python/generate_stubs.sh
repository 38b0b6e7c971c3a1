#!/usr/bin/env bash
# Generates Python stubs for Tessera's contracts with Debian's protoc and gRPC
# Python plugin (protobuf-compiler, protobuf-compiler-grpc):
#   generate_stubs.sh PROTO_ROOT OUT_DIR      (PROTO_ROOT: the repository's proto/)
# Then: PYTHONPATH=OUT_DIR python3 tessera_example.py ...
set -euo pipefail
PROTO_ROOT="$1"
OUT="$2"
PLUGIN="$(command -v grpc_python_plugin)" || { echo "grpc_python_plugin not found (protobuf-compiler-grpc)"; exit 1; }
mkdir -p "${OUT}"
cd "${PROTO_ROOT}"
protoc -I. --python_out="${OUT}" --grpc_python_out="${OUT}" \
  --plugin=protoc-gen-grpc_python="${PLUGIN}" \
  $(find tessera -name '*.proto' -not -path '*/internal/*' | sort)
# grpc.health.v1 goes to the module grpc_health.v1 (as in grpcio-health-checking):
# a `grpc` package of our own would hide the grpc library.
mkdir -p "${OUT}/health_proto/grpc_health/v1"
cp grpc/health/v1/health.proto "${OUT}/health_proto/grpc_health/v1/health.proto"
protoc -I"${OUT}/health_proto" --python_out="${OUT}" --grpc_python_out="${OUT}" \
  --plugin=protoc-gen-grpc_python="${PLUGIN}" grpc_health/v1/health.proto
rm -rf "${OUT}/health_proto"
# Packages for Python 3 imports.
find "${OUT}/tessera" "${OUT}/grpc_health" -type d -exec touch {}/__init__.py \;
