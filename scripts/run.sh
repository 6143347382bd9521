#!/usr/bin/env bash
# Installs what is missing, builds, and starts the gateway in the foreground on the shipped
# configuration (etc/pbxguard.yaml: SIP on udp/tcp 0.0.0.0:5060, PBX expected on
# udp:127.0.0.1:5080). Ctrl-C drains and stops it. Extra arguments go to `pbxguard gateway`,
# e.g. scripts/run.sh --upstream udp:10.0.0.5:5060
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)"

# Port 5060 and the state directories need root; the daemon can drop to general.user.
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" mkdir -p /var/lib/pbxguard /var/log/pbxguard
exec "${sudo_cmd[@]}" build/src/app/pbxguard gateway -c etc/pbxguard.yaml --foreground "$@"
