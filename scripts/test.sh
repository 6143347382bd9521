#!/usr/bin/env bash
# Installs what the tests need, builds, and runs the whole suite:
#   1. banned-function and format checks
#   2. warnings-as-errors build + every CTest test
#   3. ASan+UBSan build + every CTest test again
#   4. a bounded libFuzzer smoke run of every fuzz target (FUZZ_SECONDS each, default 60)
# Exit status is non-zero when any stage fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-60}

scripts/install-deps.sh test
scripts/check-banned.sh
scripts/check-format.sh

echo "== build (warnings as errors)"
cmake -S . -B build -DPBX_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 900

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DPBX_WERROR=ON -DPBX_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 1200

if [ "$fuzz_seconds" -gt 0 ] && [ -f fuzz/CMakeLists.txt ]; then
    echo "== fuzz smoke (${fuzz_seconds}s per target)"
    CC=clang cmake -S . -B build-fuzz -DPBX_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build-fuzz -j"$jobs"
    fuzz/run-smoke.sh build-fuzz "$fuzz_seconds"
fi
echo "== all stages passed"
