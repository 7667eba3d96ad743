#!/bin/bash
# Configure and build (incremental).
#   scripts/build.sh                                  # into build/
#   scripts/build.sh build-asan -DCUBENET_SANITIZE=ON # another tree, other options
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
