#!/usr/bin/env bash
# pbxguard cdr analyze on the fixtures: exit codes, the three output formats, the YAML
# policy, and errors. Usage: cli_test.sh PATH/TO/pbxguard   (run from the repository root)
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
expect_rc() { # want, description, command...
    local want=$1 what=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want"; cat "$tmp/err" >&2; fi
}
expect_grep() { # pattern, file, description
    if grep -q -- "$1" "$2"; then ok; else bad "$3: '$1' not in $2"; fi
}

cfg=tests/cdr/data/office.yaml
expect_rc 1 "asterisk fraud" "$bin" cdr analyze -c $cfg tests/cdr/data/asterisk-fraud.csv
expect_grep "flagged calls: 10 " "$tmp/out" "text summary"
expect_grep "short_burst" "$tmp/out" "text lists rules"
expect_rc 0 "asterisk clean" "$bin" cdr analyze -c $cfg tests/cdr/data/asterisk-clean.csv
expect_grep "flagged calls: 0 " "$tmp/out" "clean summary"
expect_rc 1 "freeswitch json" "$bin" cdr analyze -c $cfg -t freeswitch -f json \
    tests/cdr/data/freeswitch-fraud.csv
expect_grep '"flagged_calls":4,' "$tmp/out" "json flagged count"
expect_grep '"class_forbidden":2' "$tmp/out" "json by_rule"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"]==1 and len(d["calls_by_hour"])==24' "$tmp/out" && ok || bad "json parses"
expect_rc 1 "generic html" "$bin" cdr analyze -c $cfg -f html -o "$tmp/r.html" \
    --map id=call_id,account=caller,dst=called,source=source_ip,start=begin,billsec=talk_seconds \
    tests/cdr/data/generic-fraud.csv
expect_grep "<svg" "$tmp/r.html" "html has charts"
expect_grep "country_forbidden" "$tmp/r.html" "html lists reasons"
# stdin, several files
expect_rc 1 "stdin + file" sh -c "cat tests/cdr/data/asterisk-clean.csv | '$bin' cdr analyze -c $cfg - tests/cdr/data/asterisk-fraud.csv"
# errors: exit 2
expect_rc 2 "no file" "$bin" cdr analyze -c $cfg
expect_rc 2 "missing file" "$bin" cdr analyze -c $cfg "$tmp/none.csv"
expect_rc 2 "bad format" "$bin" cdr analyze -f xml tests/cdr/data/asterisk-clean.csv
expect_rc 2 "generic without map" "$bin" cdr analyze -t generic tests/cdr/data/asterisk-clean.csv
expect_rc 2 "bad subcommand" "$bin" cdr frobnicate
printf 'fraud:\n  schedule:\n    business_hours:\n      mon: "9 to 5"\n  groups:\n    default:\n      allow: [national, premuim]\n' >"$tmp/bad.yaml"
expect_rc 2 "bad config" "$bin" cdr analyze -c "$tmp/bad.yaml" tests/cdr/data/asterisk-clean.csv
expect_grep "bad.yaml:4:12: " "$tmp/err" "config error position"
expect_grep "premuim" "$tmp/err" "config error names the value"
expect_rc 0 "help" "$bin" cdr analyze --help

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
