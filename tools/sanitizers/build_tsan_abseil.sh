#!/usr/bin/env bash
# Builds Debian's own Abseil (the source package of the libabsl-dev we link, with
# Debian's patches: same version, options, inline namespace and SONAMEs) with
# ThreadSanitizer, for `tools/sanitizers.sh tsan`.
#
# Why: Debian's libabsl is not built with TSan, so absl::Mutex, CondVar and
# Notification publish no happens-before edges to TSan and every field they guard
# is reported as racing. The TSan-built shared libraries, found first through the
# rpath and LD_LIBRARY_PATH that tools/sanitizers.sh passes, annotate them (Abseil
# does so itself when compiled with -fsanitize=thread), and gRPC, which loads the
# same SONAMEs, uses them too.
#
#   tools/sanitizers/build_tsan_abseil.sh [PREFIX]   (default ~/.cache/tessera-tsan-abseil)
#
# Needs `apt-get source` (a deb-src entry for bookworm; added when missing), cmake
# and ninja (installed when missing). Takes ~15 minutes on 2 cores; a second run
# with the libraries present returns at once.
set -euo pipefail

prefix="${1:-${HOME}/.cache/tessera-tsan-abseil}"
version="$(dpkg-query -W -f='${Version}' libabsl-dev 2>/dev/null || true)"
if [[ -z "${version}" ]]; then
  echo "build_tsan_abseil: libabsl-dev is not installed" >&2
  exit 1
fi
stamp="${prefix}/.built-${version}"
if [[ -f "${stamp}" ]]; then
  echo "build_tsan_abseil: ${prefix} already holds Abseil ${version} built with TSan"
  exit 0
fi

for tool in cmake ninja:ninja-build dpkg-source:dpkg-dev; do
  command -v "${tool%%:*}" >/dev/null || apt-get install -y -qq "${tool##*:}" >/dev/null
done

work="$(mktemp -d /tmp/tsan_abseil.XXXXXX)"
trap 'rm -rf "${work}"' EXIT
cd "${work}"
if ! apt-get source --download-only "abseil=${version}" >/dev/null 2>&1; then
  # No source index yet: add bookworm's deb-src next to the binary sources.
  cat >/etc/apt/sources.list.d/tessera-deb-src.sources <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt-get update -qq
  apt-get source --download-only "abseil=${version}" >/dev/null
fi
# Unpacks and applies Debian's patches (SONAME, inline namespace, options).
dpkg-source -x ./*.dsc src >/dev/null

flags="-fsanitize=thread -O1 -g1 -fno-omit-frame-pointer"
cmake -S src -B build -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_STANDARD=17 \
  -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX="${prefix}" \
  -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_CXX_FLAGS="${flags}" -DCMAKE_C_FLAGS="${flags}" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
nice -n "${TESSERA_SANITIZER_NICE:-10}" ninja -C build -j "${TESSERA_SANITIZER_JOBS:-2}" >/dev/null
rm -rf "${prefix}"
ninja -C build install >/dev/null
# Only the libraries are used: the headers stay Debian's, which are the same.
rm -rf "${prefix}/include"
touch "${stamp}"
echo "build_tsan_abseil: Abseil ${version} with TSan in ${prefix}/lib"
