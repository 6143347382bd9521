#!/usr/bin/env bash
# Runs every libFuzzer target of a PBX_FUZZ build for a bounded time each.
#   fuzz/run-smoke.sh BUILD_DIR SECONDS
# Each target fuzzes a temporary copy of its corpus (fuzz/corpus/<name>/), so the repository
# is never written to. Crash, leak, timeout and OOM reproducers are kept in
# BUILD_DIR/fuzz-artifacts/<target>/. Prints one summary line per target and exits
# non-zero if any target failed.
set -uo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
    echo "run-smoke: no fuzz targets in $build/fuzz (configure with -DPBX_FUZZ=ON)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for bin in "${targets[@]}"; do
    [ -x "$bin" ] || continue
    target=$(basename "$bin")
    name=${target#fuzz_}
    corpus="$work/$name"
    mkdir -p "$corpus"
    if [ -d "$here/corpus/$name" ]; then
        cp -r "$here/corpus/$name/." "$corpus/"
    fi
    seeds=$(find "$corpus" -type f | wc -l)
    artifacts="$build/fuzz-artifacts/$target"
    mkdir -p "$artifacts"
    log="$work/$target.log"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
    after=$(find "$corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        echo "fuzz-smoke: $target ok: ${runs:-?} runs in ${seconds}s, cov ${cov:-?}, corpus $seeds -> $after"
    else
        failed=1
        echo "fuzz-smoke: $target FAILED (exit $rc); reproducers in $artifacts; log tail:"
        tail -n 40 "$log" | sed 's/^/    /'
    fi
done
exit $failed
