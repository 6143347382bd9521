#!/usr/bin/env bash
# pbxguard audit from the command line: exit codes, --fail-on, and well-formed JSON/SARIF.
set -u
bin=$1
fix=tests/audit/fixtures
fail=0
check() { # description, expected status, command...
    local what=$1 want=$2
    shift 2
    "$@" >/tmp/pbxguard-audit-cli.$$ 2>&1
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: $what: exit $got, want $want" >&2
        cat /tmp/pbxguard-audit-cli.$$ >&2
        fail=1
    else
        echo "ok: $what"
    fi
}
check "usage error" 2 "$bin" audit --format yaml --asterisk $fix/asterisk-insecure
check "nothing to audit" 2 "$bin" audit
check "bad severity" 2 "$bin" audit --fail-on severe --asterisk $fix/asterisk-insecure
check "bad date" 2 "$bin" audit --host --today 2024-02-30x
check "missing input" 3 "$bin" audit --asterisk $fix/does-not-exist
check "insecure fails on high" 1 "$bin" audit --asterisk $fix/asterisk-insecure --fail-on high
check "hardened passes on low" 0 "$bin" audit --asterisk $fix/asterisk-hardened --fail-on low
check "kamailio insecure fails on critical" 1 "$bin" audit --kamailio tests/probe/kamailio/insecure.cfg --fail-on critical
check "no --fail-on means exit 0" 0 "$bin" audit --asterisk $fix/asterisk-insecure

# JSON: parse it and check the documented fields.
"$bin" audit --asterisk $fix/asterisk-insecure --format json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["schema"] == "pbxguard-report/1" and d["tool"] == "audit", d.keys()
assert d["grade"] == "F" and d["summary"]["critical"] == 3, d["summary"]
ids = {f["id"] for f in d["findings"]}
assert {"AST-DIAL-001", "AST-SIP-001", "AST-AMI-002"} <= ids, ids
for f in d["findings"]:
    assert set(f) == {"id", "severity", "title", "file", "line", "evidence", "why", "fix"}, f
    assert "amp111" not in f["evidence"]
print("ok: json")' || fail=1

# SARIF 2.1.0: the structure code-scanning consumers require.
"$bin" audit --freeswitch $fix/freeswitch-insecure --kamailio tests/probe/kamailio/insecure.cfg \
    --format sarif 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] == "2.1.0" and "$schema" in d
run = d["runs"][0]
rules = run["tool"]["driver"]["rules"]
assert run["tool"]["driver"]["name"] == "pbxguard audit"
assert len(run["results"]) == 8, len(run["results"])
for res in run["results"]:
    assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    assert res["level"] in ("error", "warning", "note")
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] and loc["region"]["startLine"] >= 1
for r in rules:
    assert r["shortDescription"]["text"] and r["help"]["text"]
print("ok: sarif")' || fail=1

# Text: grouped by severity, no colour when not a terminal.
out=$("$bin" audit --asterisk $fix/asterisk-insecure 2>/dev/null)
case "$out" in *$'\033'*) echo "FAIL: colour on a pipe" >&2; fail=1 ;; esac
echo "$out" | grep -q '^CRITICAL$' && echo "$out" | grep -q '^LOW$' || { echo "FAIL: text groups" >&2; fail=1; }
# Every check is documented: docs/audit.md and docs/probe.md list each ID.
for id in $("$bin" audit --list-checks | awk '{print $1}'); do
    grep -q "\`$id\`" docs/audit.md || { echo "FAIL: $id missing from docs/audit.md" >&2; fail=1; }
done
for id in $("$bin" probe --list-checks | awk '{print $1}'); do
    grep -q "\`$id\`" docs/probe.md || { echo "FAIL: $id missing from docs/probe.md" >&2; fail=1; }
done
[ "$("$bin" audit --list-checks | wc -l)" -ge 46 ] || { echo "FAIL: audit --list-checks" >&2; fail=1; }
[ "$("$bin" probe --list-checks | wc -l)" -ge 13 ] || { echo "FAIL: probe --list-checks" >&2; fail=1; }
rm -f /tmp/pbxguard-audit-cli.$$
exit $fail
