#!/usr/bin/env bash
# Installs the Debian 12 packages Tessera builds and tests with (only those that
# are missing, so a second run is quick). Needs root or sudo.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-bootstrap-source
  g++ default-jdk-headless python3
  protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev libsqlite3-dev sqlite3 libssl-dev
  libfaiss-dev libopenblas-dev libhnswlib-dev
  libboost-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libstemmer-dev libutf8proc-dev libre2-dev
  libpoppler-cpp-dev libgumbo-dev nlohmann-json3-dev libsimdjson-dev
  libspdlog-dev libfmt-dev libxapian-dev libicu-dev libyaml-cpp-dev
  libgrpc-java protobuf-compiler-grpc-java-plugin libprotobuf-java
  libnetty-java libperfmark-java
  python3-grpcio python3-sentencepiece python3-numpy curl
  # deploy/validate_manifests.py; clients/python (protoc + grpc_python_plugin come
  # with protobuf-compiler and protobuf-compiler-grpc above)
  python3-yaml python3-protobuf
  # tools/fuzz.sh: libFuzzer and the sanitizer runtimes of clang, llvm-symbolizer
  clang libclang-rt-14-dev llvm
  # tests/eval_report_render_test: the HTML report rendered in headless Chromium
  chromium
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("${package}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
${SUDO} apt-get update -q
DEBIAN_FRONTEND=noninteractive ${SUDO} apt-get install -y -q --no-install-recommends "${missing[@]}"
