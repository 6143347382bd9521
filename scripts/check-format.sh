#!/usr/bin/env bash
# Fails when a C file differs from .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -co --exclude-standard '*.c' '*.h' | xargs -r clang-format --dry-run -Werror
echo "check-format: clean"
