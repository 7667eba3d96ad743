#!/bin/bash
# The test command: install dependencies, build, run every suite; then
# build the userspace with sanitizers and run the suites that drive
# cubenetd, cubectl and the CNI plugin against it (any report fails);
# then build the fuzz targets with clang's libFuzzer and run each for a
# bounded time from its seeds (tests/fuzz, ctest label fuzz).
# ctest options (scripts/test.sh -R parser -V) apply to all three runs.
# Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
failed=0
(cd build && ctest --output-on-failure --timeout 600 "$@") || failed=1
scripts/build.sh build-asan -DCUBENET_SANITIZE=ON
(cd build-asan && ctest --output-on-failure --timeout 900 -L userspace --no-tests=ignore "$@") ||
	failed=1
# A tree of its own: libFuzzer is clang's, and only the targets are built.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUBENET_FUZZ=ON >/dev/null
cmake --build build-fuzz --target fuzzers -j"$(nproc)"
(cd build-fuzz && ctest --output-on-failure --timeout 600 -L fuzz --no-tests=ignore "$@") || failed=1
exit $failed
