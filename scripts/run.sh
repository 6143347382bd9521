#!/usr/bin/env bash
# Installs what is missing, builds, and runs pbxguard's main job on its embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)"
exec build/src/app/pbxguard inspect samples/sip/*.sip
