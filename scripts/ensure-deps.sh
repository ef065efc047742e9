#!/usr/bin/env bash
# Installs the Debian packages the test suites need when they are missing
# (libuv1-dev for the CMake build of the core, liburing-dev for the flush's
# io_uring path (linked statically into the addon), GoogleTest, Google Benchmark,
# clang + its runtime for the fuzzer, chromium for the browser tests, the arm64
# cross compiler for the linux-arm64 prebuild, redis-server for the Redis
# bridge tests, emoji fonts for the demo's screenshot, valgrind for the addon leak test). Needs root or sudo;
# does nothing when everything is present.
#   --bench   also what only the benchmarks use: nginx-light + libnginx-mod-nchan
#             (the nchan anchor of bench/run.mjs). The tests never need them.
set -euo pipefail
pkgs=(build-essential cmake pkg-config python3 libuv1-dev liburing-dev libgtest-dev libbenchmark-dev
      clang libclang-rt-14-dev chromium g++-aarch64-linux-gnu redis-server fonts-noto-color-emoji valgrind)
if [ "${1:-}" = "--bench" ]; then pkgs+=(nginx-light libnginx-mod-nchan); fi
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then run=(); elif command -v sudo >/dev/null; then run=(sudo); else
  echo "need root to install: ${missing[*]}" >&2
  exit 1
fi
"${run[@]}" apt-get update -qq
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
