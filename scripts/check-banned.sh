#!/usr/bin/env bash
# Fails when C sources call a function the project bans (see docs/architecture.md).
set -euo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|strncpy|sprintf|vsprintf|gets|strtok|atoi|atol|strtol|sscanf|alloca'
hits=$(git ls-files -co --exclude-standard '*.c' '*.h' | xargs -r grep -nE "(^|[^_a-zA-Z0-9])($banned)[[:space:]]*\(" | grep -v 'banned-ok' || true)
if [ -n "$hits" ]; then
    echo "banned functions used:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "check-banned: clean"
