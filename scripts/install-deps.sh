#!/usr/bin/env bash
# Installs the Debian packages pbxguard needs; idempotent, only what is missing.
#   scripts/install-deps.sh build   packages to build
#   scripts/install-deps.sh test    packages to build and run the whole test suite
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
set_name=${1:-build}

lists=("$here/packages-build.txt")
[ "$set_name" = test ] && lists+=("$here/packages-test.txt")

missing=()
for list in "${lists[@]}"; do
    while read -r pkg _; do
        case "$pkg" in ''|'#'*) continue ;; esac
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done <"$list"
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "install-deps: installing ${missing[*]}" >&2
"${sudo_cmd[@]}" apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
